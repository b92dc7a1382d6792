"""The api app's tables: API keys (keys.py)."""

from api.models.keys import ApiKey

__all__ = ["ApiKey"]
