"""What the api app refuses: every `code` it can answer (the other apps' are in their errors.py)."""

from core.errors import ServiceError

__all__ = ["ApiKeyInvalid"]


class ApiKeyInvalid(ServiceError):
    """A key that cannot be created as asked (no name, two owners, another suite's tenants)."""

    code = "api_key_invalid"
