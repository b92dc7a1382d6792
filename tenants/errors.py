"""What the tenants app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError
from dingtalk.errors import QuotaExceeded

__all__ = [
    "AppInvalid", "AuthorizationLost", "CallbackForbidden", "CallbackMalformed", "CallbackRejected",
    "CallbackTooLarge", "CallbackUndecryptable", "CallbackWrongSuite", "NoSuiteTicket",
    "ReauthUnavailable", "ServiceError", "StaleEvent", "SuiteInvalid", "SuiteNotFound",
    "TenantInactive", "TenantNotFound",
]


class SuiteNotFound(ServiceError):
    code = "suite_not_found"
    http_status = 404


class TenantNotFound(ServiceError):
    code = "tenant_not_found"
    http_status = 404


class NoSuiteTicket(ServiceError):
    """DingTalk has not pushed a suite_ticket yet, so no signed call can be made."""

    code = "no_suite_ticket"
    http_status = 409


class TenantInactive(ServiceError):
    """The tenant is relieved, its app is stopped, or an operator suspended it."""

    code = "tenant_inactive"
    http_status = 409


class CallbackRejected(ServiceError):
    """A callback that failed verification or could not be read; `http_status` says how."""

    code = "callback_rejected"


class CallbackForbidden(CallbackRejected):
    """Bad signature, or a suite key that is not ours: the same answer for both (no probing
    for which keys exist)."""

    code = "callback_bad_signature"
    http_status = 403


class CallbackUndecryptable(CallbackRejected):
    code = "callback_undecryptable"
    http_status = 400


class CallbackMalformed(CallbackRejected):
    code = "callback_malformed"
    http_status = 400


class CallbackTooLarge(CallbackRejected):
    code = "callback_too_large"
    http_status = 413


class CallbackWrongSuite(CallbackRejected):
    """A signed push whose own SuiteKey or subscribe_id names another suite than its URL (or,
    pushed to an internal app's URL, another corp than the app's)."""

    code = "callback_wrong_suite"
    http_status = 400


class AuthorizationLost(ServiceError):
    """An HTTP-push authorization whose single-use tmp_auth_code is spent and whose permanent
    code we never received (a lost answer, a worker killed between trade and store)."""

    code = "authorization_lost"
    http_status = 409


class SuiteInvalid(ServiceError):
    """A suite registration with malformed credentials or options (never echoes secrets)."""

    code = "suite_invalid"


class AppInvalid(ServiceError):
    """An internal-app registration with malformed or clashing credentials or options (never
    echoes secrets)."""

    code = "app_invalid"


class StaleEvent(ServiceError):
    """The tenant already saw a newer DingTalk event; this older one changes nothing."""

    code = "stale_event"
    http_status = 409


class ReauthUnavailable(ServiceError):
    """DingTalk can be asked to re-push an authorization only for HTTP-push suites whose app id
    is registered (get_unactive_corp and reauth_corp name it)."""

    code = "reauth_unavailable"
    http_status = 409


class CallBudgetSpent(QuotaExceeded):
    """The tenant's monthly call budget is spent (ours, or DingTalk said 90020): the call was
    not sent. Like DingTalk's 90020 it is never retried; the next month frees it."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(None, message, sub_code="call_budget", path=path)
