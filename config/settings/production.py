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
# Redis is optional: without it the token cache is per process and the fetch lock is
# PostgreSQL's advisory lock (tenants/token_store.py), so tokens are still fetched once.
# The broker is not optional: Celery needs one (Redis, RabbitMQ or any kombu transport).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL
if not CELERY_BROKER_URL:
    raise RuntimeError("CELERY_BROKER_URL (or REDIS_URL) must be set in production "
                       "(see deploy/env.example)")
_keys = _required("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEYS = [key.strip() for key in _keys.split(",") if key.strip()]
DEBUG = False
# Collected files with content hashes in their names, compressed, cached for ever by browsers
# (WhiteNoise serves them; the image runs collectstatic at build time).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# One JSON object per log line unless LOG_FORMAT says otherwise (base.py reads the variable).
if "LOG_FORMAT" not in os.environ:
    LOG_FORMAT = "json"
    LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
