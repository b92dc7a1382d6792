"""ServiceError: what dingsuite refused (dingtalk.errors is what DingTalk said).

Each app gathers its own subclasses in its `errors.py`, so one file per app lists every `code`
the API can answer; the DRF exception handler in config/ renders them all in one shape.
"""


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
