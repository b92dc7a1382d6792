"""What the api app refuses: every `code` it can answer (the other apps' are in their errors.py)."""

from core.errors import ServiceError

__all__ = ["ApiKeyInvalid", "MediaTooLarge"]


class ApiKeyInvalid(ServiceError):
    """A key that cannot be created as asked (no name, two owners, another suite's tenants)."""

    code = "api_key_invalid"


class MediaTooLarge(ServiceError):
    """An upload body bigger than the largest file DingTalk takes (10 MB) plus its multipart
    framing, or with form fields past DATA_UPLOAD_MAX_MEMORY_SIZE: refused before it is read."""

    code = "media_too_large"
    http_status = 413
