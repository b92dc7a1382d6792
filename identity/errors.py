"""What the identity app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["JsapiAgentUnknown", "JsapiInputInvalid", "SsoAnswerUnstorable", "SsoCodeInvalid",
           "SsoInputInvalid", "SsoUserNotVisible"]


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


class SsoAnswerUnstorable(ServiceError):
    """DingTalk answered a userid or unionid no column can keep as given (a NUL, a lone
    surrogate, longer than the column): refused rather than cut into another person's id."""

    code = "sso_dingtalk_answer_invalid"
    http_status = 502


class JsapiInputInvalid(ServiceError):
    """A dd.config request dingsuite cannot sign: a URL that is no http(s) page with a host
    (NUL, control characters, over 2 KB), or a bad nonceStr/timeStamp; no DingTalk call made."""

    code = "jsapi_input_invalid"


class JsapiAgentUnknown(ServiceError):
    """The tenant has no agent id yet (auth info not read), so dd.config cannot name the app."""

    code = "jsapi_agent_unknown"
    http_status = 409


# ---- admin-console SSO (PROTOCOL-ISV 1.3) ---------------------------------------------------
__all__ += ["AssertionExpired", "AssertionInvalid", "AssertionNotFound", "AssertionUsed",
            "SsoAdminCodeInvalid", "SsoAdminDingTalkFailed", "SsoAdminInputInvalid",
            "SsoAdminIsvRequired", "SsoAdminNotConfigured"]


class SsoAdminInputInvalid(ServiceError):
    """A ?code= or ?isv= no DingTalk value could be (empty, over 256 characters, NUL, anything
    but printable ASCII): no call made."""

    code = "sso_admin_input_invalid"


class SsoAdminNotConfigured(ServiceError):
    """No enabled admin-console SSO credentials (or none for the ?isv= corp id)."""

    code = "sso_admin_not_configured"


class SsoAdminIsvRequired(ServiceError):
    """Several ISV corps are configured and the URL does not say which (?isv=<corpid>)."""

    code = "sso_admin_isv_required"


class SsoAdminCodeInvalid(ServiceError):
    """DingTalk 41007: the admin-console code is wrong, already used, or expired."""

    code = "sso_admin_code_invalid"


class SsoAdminDingTalkFailed(ServiceError):
    """DingTalk could not be reached or refused the ISV's SSO credentials or token."""

    code = "sso_admin_dingtalk_failed"
    http_status = 502


class AssertionInvalid(ServiceError):
    """Not an assertion dingsuite signed (malformed, or a signature that does not match)."""

    code = "assertion_invalid"


class AssertionNotFound(ServiceError):
    """A signed assertion this API key may not redeem (another suite's) or that is gone."""

    code = "assertion_not_found"
    http_status = 404


class AssertionUsed(ServiceError):
    """The assertion was redeemed already: each is good for one login."""

    code = "assertion_used"
    http_status = 409


class AssertionExpired(ServiceError):
    """The assertion outlived IDENTITY_SSO_ADMIN_ASSERTION_TTL_S before it was redeemed."""

    code = "assertion_expired"
    http_status = 410
