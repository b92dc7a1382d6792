"""What the identity app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["SsoCodeInvalid", "SsoInputInvalid", "SsoUserNotVisible"]


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
