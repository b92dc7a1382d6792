"""Production: every secret and endpoint comes from the environment, with no defaults."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, env_bool, env_list


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

# TLS ends in front of gunicorn (deploy/Caddyfile, nginx, or DingTalk's secure-domain gateway),
# which must set X-Forwarded-Proto (and overwrite a client's). Cookies travel over HTTPS only.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Off by default: behind DingTalk's secure-domain gateway (PROTOCOL-ISV 5.2) the SLB must not
# redirect HTTP to HTTPS, and a TLS proxy of your own redirects by itself. Health probes come
# over plain HTTP from inside and are never redirected.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Sent on HTTPS responses only (Django's SecurityMiddleware), so a plain-HTTP demo is unaffected.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
# A gateway that does not say the request was HTTPS makes the admin's POSTs cross-origin to
# Django: name the public origin here (https://dingsuite.example.com).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Database connections (docs/deploy.md, "Database connections"). Both options need
# CONN_MAX_AGE 0: each request or task gives its connection back when it ends.
# DATABASE_PGBOUNCER=transaction|session: DATABASE_URL names a PgBouncer. In transaction mode a
# server connection changes hands between transactions, so nothing may outlive one: no
# server-side cursors, no prepared statements, and no session advisory lock (the token store's
# fallback lock), hence Redis (the fetch lock's home) is required there.
_db = DATABASES["default"]
DATABASE_PGBOUNCER = os.environ.get("DATABASE_PGBOUNCER", "").strip().lower()
if DATABASE_PGBOUNCER not in ("", "session", "transaction"):
    raise RuntimeError("DATABASE_PGBOUNCER must be empty, session or transaction")
# DATABASE_POOL_MAX_SIZE=N: Django's psycopg pool, at most N connections per process.
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "0"))
if DATABASE_PGBOUNCER or DATABASE_POOL_MAX_SIZE:
    _db["CONN_MAX_AGE"] = 0
if DATABASE_PGBOUNCER == "transaction":
    if not REDIS_URL:
        raise RuntimeError("DATABASE_PGBOUNCER=transaction needs REDIS_URL: the token fetch "
                           "lock cannot be a PostgreSQL session lock through PgBouncer")
    _db["DISABLE_SERVER_SIDE_CURSORS"] = True
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASE_POOL_MAX_SIZE:
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("DATABASE_POOL_MAX_SIZE needs PostgreSQL")
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "0")),
        "max_size": DATABASE_POOL_MAX_SIZE,
        # A thread waits this long for a free connection, then its request fails (a 500).
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT_S", "10")),
        # Idle connections above min_size are closed after this long.
        "max_idle": float(os.environ.get("DATABASE_POOL_MAX_IDLE_S", "300")),
    }
