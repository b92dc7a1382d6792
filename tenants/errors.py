"""What the tenants app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["ServiceError", "SuiteNotFound", "TenantNotFound", "NoSuiteTicket", "TenantInactive",
           "CallbackRejected"]


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
