"""Production: every secret and endpoint comes from the environment, with no defaults."""

import os

from .base import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} must be set in production (see deploy/env.example)")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY")
_required("DATABASE_URL")
REDIS_URL = _required("REDIS_URL")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
_keys = _required("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEYS = [key.strip() for key in _keys.split(",") if key.strip()]
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
