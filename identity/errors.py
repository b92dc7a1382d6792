"""What the identity app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["JsapiAgentUnknown", "JsapiInputInvalid", "SsoCodeInvalid", "SsoInputInvalid",
           "SsoUserNotVisible"]


class SsoInputInvalid(ServiceError):
    """A code no DingTalk code could be (empty, not text, too long, with a NUL): no call made."""

    code = "sso_input_invalid"


class SsoCodeInvalid(ServiceError):
    """DingTalk 40078: the code is wrong, already used, or older than 5 minutes."""

    code = "sso_code_invalid"


class SsoUserNotVisible(ServiceError):
    """DingTalk 40079: the app is not authorised for this user, or the user is outside its
    visible range (for a suite: the authorised scope)."""

    code = "sso_user_not_visible"
    http_status = 403


class JsapiInputInvalid(ServiceError):
    """A dd.config request dingsuite cannot sign: a URL that is no http(s) page with a host
    (NUL, control characters, over 2 KB), or a bad nonceStr/timeStamp; no DingTalk call made."""

    code = "jsapi_input_invalid"


class JsapiAgentUnknown(ServiceError):
    """The tenant has no agent id yet (auth info not read), so dd.config cannot name the app."""

    code = "jsapi_agent_unknown"
    http_status = 409
