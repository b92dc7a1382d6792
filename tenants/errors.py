"""What dingsuite refused (as opposed to dingtalk.errors, what DingTalk said)."""


class ServiceError(Exception):
    """A refusal with a stable snake_case `code`, a human `message` and JSON-safe `extra`."""

    code = "service_error"
    http_status = 400

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "extra": self.extra}


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
