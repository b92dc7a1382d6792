"""Settings shared by every environment; what differs per deployment comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from config.celery_routes import task_routes

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("DINGSUITE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "config.admin_site.DingsuiteAdminConfig",  # django.contrib.admin with a health dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tenants",
    "directory",
    "identity",
    "commerce",
    "messaging",
    "api",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.ApiJsonNotFoundMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS and JS, Swagger UI) served by the app itself, in production
    # too: no separate file server to configure (collected by `collectstatic`).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite when DATABASE_URL is unset, so the quick start needs no server.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
# No request-wide transaction: services keep their transactions short, with no DingTalk call
# inside one (docs/architecture.md).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's SQLite serves a web server and a worker's threads at once: WAL lets readers go
    # on during a write, IMMEDIATE takes the write lock when a transaction starts (a deferred
    # one that upgrades later can fail at once with "database is locked" instead of waiting),
    # and the busy timeout makes a writer wait for the lock rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))

REDIS_URL = os.environ.get("REDIS_URL", "")
# Every Redis client dingsuite makes (core.redis) gives up within these: a hung Redis must cost
# a caller a fraction of DingTalk's 1200 ms callback deadline, never the whole request.
REDIS_CONNECT_TIMEOUT_S = float(os.environ.get("REDIS_CONNECT_TIMEOUT_S", "0.5"))
REDIS_SOCKET_TIMEOUT_S = float(os.environ.get("REDIS_SOCKET_TIMEOUT_S", "0.5"))

# Celery: a Redis broker in production; the embedded default is kombu's filesystem transport,
# which needs no server (see config/settings/local.py).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
# No global acks_late: each task states its own delivery rule on its decorator. Event processing
# is idempotent and opts in; a send never does (a redelivered send is a second message).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps its database connection across tasks (Celery's Django fixup otherwise closes it
# around every task: a new PostgreSQL connection per send and per poll, ~12% of their CPU and
# about half of bench (c)'s rate); config/celery.py still drops one that is too old or broken
# before and after each task, as Django does per request.
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues per role (config/celery_routes.py); workers name theirs with -Q. The prefix lets a test
# run (or two deployments sharing a broker) keep to its own queues.
CELERY_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}default"
CELERY_TASK_ROUTES = task_routes(CELERY_QUEUE_PREFIX)
# Nothing runs forever: a task past the soft limit gets SoftTimeLimitExceeded (its service
# records the failure), past the hard limit its worker process is replaced.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
# A hung broker must cost a publisher about a second, not minutes: bounded socket timeouts and
# a short publish retry. What is not published is found by the sweep (its row is in the inbox).
# (The socket timeout stays above kombu's 1 s BRPOP wait, or idle workers would time out.)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 5.0, "socket_connect_timeout": 2.0, "visibility_timeout": 3600,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
}
# Celery beat: the sweep finds what no queue holds any more (lost messages, dead workers, due
# retries, lost authorizations) every 30 s.
TENANTS_SWEEP_EVERY_S = float(os.environ.get("TENANTS_SWEEP_EVERY_S", "30"))
CELERY_BEAT_SCHEDULE = {
    # The daily purge of what no one needs any more (config/retention.py), at 03:17 in
    # DingTalk's time zone: off the hour, at night for Chinese corps.
    "config-retention-purge": {
        "task": "config.retention_purge",
        "schedule": crontab(hour=19, minute=17),  # UTC
    },
    "tenants-callback-events-sweep": {
        "task": "tenants.callback_events_sweep", "schedule": TENANTS_SWEEP_EVERY_S,
    },
    "messaging-notifications-sweep": {
        "task": "messaging.notifications_sweep", "schedule": TENANTS_SWEEP_EVERY_S,
    },
    # Outbound webhooks: due and lost deliveries, and notifications that finished (api/tasks.py).
    "api-webhooks-sweep": {
        "task": "api.webhooks_sweep",
        "schedule": float(os.environ.get("API_WEBHOOK_SWEEP_EVERY_S", "5")),
    },
}
# /metrics (config/metrics_view.py): when set, scrapes must send `Authorization: Bearer <it>`.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Retention (config/retention.py; days). Events still waiting, failing or dead are never purged.
TENANTS_RETAIN_EVENTS_DAYS = int(os.environ.get("TENANTS_RETAIN_EVENTS_DAYS", "30"))
TENANTS_RETAIN_TICKETS_DAYS = int(os.environ.get("TENANTS_RETAIN_TICKETS_DAYS", "7"))
MESSAGING_RETAIN_RECIPIENTS_DAYS = int(os.environ.get("MESSAGING_RETAIN_RECIPIENTS_DAYS", "30"))
MESSAGING_RETAIN_LEDGER_DAYS = int(os.environ.get("MESSAGING_RETAIN_LEDGER_DAYS", "7"))
API_WEBHOOK_RETAIN_DAYS = int(os.environ.get("API_WEBHOOK_RETAIN_DAYS", "30"))
# A PENDING event due longer ago than this has lost its message: the sweep queues it again.
TENANTS_SWEEP_PENDING_AFTER_S = int(os.environ.get("TENANTS_SWEEP_PENDING_AFTER_S", "20"))
# A worker holds a PROCESSING event for this long and renews the lease every third of it while
# it works; a dead worker's event is taken back by the sweep within lease + sweep period.
TENANTS_EVENT_LEASE_S = int(os.environ.get("TENANTS_EVENT_LEASE_S", "20"))
# Retryable failures wait 2, 4, 8 ... s (jittered) up to 10 minutes; after this many attempts
# an event is given up (DEAD) with its reason, for an operator to reprocess.
TENANTS_EVENT_RETRY_BASE_S = float(os.environ.get("TENANTS_EVENT_RETRY_BASE_S", "2"))
TENANTS_EVENT_RETRY_MAX_S = float(os.environ.get("TENANTS_EVENT_RETRY_MAX_S", "600"))
TENANTS_EVENT_MAX_ATTEMPTS = int(os.environ.get("TENANTS_EVENT_MAX_ATTEMPTS", "5"))
# Internal apps of standard-edition orgs get 5,000 non-basic calls a month (90020, PROTOCOL 10):
# the default budget of an internal-app tenant (per tenant in the admin; 0 there: none, for a
# paid edition). Suite tenants have none unless set. Months follow this time zone.
TENANTS_MONTHLY_CALL_BUDGET = int(os.environ.get("TENANTS_MONTHLY_CALL_BUDGET", "5000"))
TENANTS_CALL_BUDGET_TZ = os.environ.get("TENANTS_CALL_BUDGET_TZ", "Asia/Shanghai")

# Work notifications (messaging/). DingTalk's day for its per-user rules is the Asia/Shanghai
# calendar day (as the emulator's day_mode "calendar"); the ledger's day follows this setting.
MESSAGING_DAY_TZ = os.environ.get("MESSAGING_DAY_TZ", "Asia/Shanghai")
# Messages per user per day per (app, corp), PROTOCOL 3.1: 500 from an internal app, 100 from a
# third-party app (one DingTalk table says 50 for ISVs: UNCERTAIN; the doc body and the
# forbidden_user_id_list description say 100, and so does the emulator).
MESSAGING_DAILY_CAP_INTERNAL = int(os.environ.get("MESSAGING_DAILY_CAP_INTERNAL", "500"))
MESSAGING_DAILY_CAP_ISV = int(os.environ.get("MESSAGING_DAILY_CAP_ISV", "100"))
# Full-company (to_all_user) notifications per internal app's corp per day (41045).
MESSAGING_TO_ALL_USER_PER_DAY = int(os.environ.get("MESSAGING_TO_ALL_USER_PER_DAY", "3"))
# Userids per DingTalk task (PROTOCOL 3.1's userid_list limit).
MESSAGING_BATCH_SIZE = int(os.environ.get("MESSAGING_BATCH_SIZE", "100"))
# A planning run holds its notification this long: past the hard time limit, so an expired
# lease always means a dead run, never a slow one (planning renews nothing).
MESSAGING_PLAN_LEASE_S = int(os.environ.get("MESSAGING_PLAN_LEASE_S",
                                            str(CELERY_TASK_TIME_LIMIT + 30)))
# Retryable planning failures (transport, throttling) wait 5, 10, 20 ... s up to 10 minutes;
# after this many attempts the notification fails with its reason.
MESSAGING_PLAN_RETRY_BASE_S = float(os.environ.get("MESSAGING_PLAN_RETRY_BASE_S", "5"))
MESSAGING_PLAN_RETRY_MAX_S = float(os.environ.get("MESSAGING_PLAN_RETRY_MAX_S", "600"))
MESSAGING_PLAN_MAX_ATTEMPTS = int(os.environ.get("MESSAGING_PLAN_MAX_ATTEMPTS", "6"))
# An ACCEPTED notification due longer ago than this lost its message: the sweep queues it again.
MESSAGING_SWEEP_PENDING_AFTER_S = int(os.environ.get("MESSAGING_SWEEP_PENDING_AFTER_S", "20"))
# A send holds its batch this long, past the hard time limit: an expired lease means a dead
# worker, and since its request may have left, the sweep marks the batch unknown (never resent).
MESSAGING_SEND_LEASE_S = int(os.environ.get("MESSAGING_SEND_LEASE_S",
                                            str(CELERY_TASK_TIME_LIMIT + 30)))
# Throttled sends (90018 and its family) wait 2, 4, 8 ... s (jittered) up to 10 minutes.
MESSAGING_SEND_RETRY_BASE_S = float(os.environ.get("MESSAGING_SEND_RETRY_BASE_S", "2"))
MESSAGING_SEND_RETRY_MAX_S = float(os.environ.get("MESSAGING_SEND_RETRY_MAX_S", "600"))
# ... and after this many throttled or failed-before-sending tries the batch fails with the
# last errcode (limiter refusals are pacing and do not count).
MESSAGING_SEND_MAX_ATTEMPTS = int(os.environ.get("MESSAGING_SEND_MAX_ATTEMPTS", "8"))
# Batches of one tenant queued or sending at once (messaging/services/pacing.py): the rest wait
# unqueued, so a tenant's huge notification holds this many contenders for the suite's
# per-minute budget and another tenant's small one is not stuck behind it.
MESSAGING_SEND_WINDOW_PER_TENANT = int(os.environ.get("MESSAGING_SEND_WINDOW_PER_TENANT", "2"))
# A tenant that sent more of the shared (suite or corp) per-minute budget lately waits up to
# this much longer when that budget refuses it (times the square of its share: a tenant among
# ten equals loses 1% of it), so that a tenant that sent little gets the room that frees first
# (fairness between the tenants of one suite; 0 turns it off).
MESSAGING_FAIRNESS_DELAY_S = float(os.environ.get("MESSAGING_FAIRNESS_DELAY_S", "0.5"))
# A notification is recounted after every this-many batches (and always after its last one, or
# an unusual one): a recount per batch would read all its recipients each time.
MESSAGING_SETTLE_EVERY = int(os.environ.get("MESSAGING_SETTLE_EVERY", "10"))
# An UNKNOWN batch without a task id (the send's answer was lost) is sent this many times more,
# this long after, while its ledger day lasts: DingTalk's identical-content rule drops it for
# whoever the lost send reached (recorded as duplicate). 0: never; it stays unknown.
MESSAGING_UNKNOWN_RESENDS = int(os.environ.get("MESSAGING_UNKNOWN_RESENDS", "1"))
MESSAGING_UNKNOWN_RESEND_AFTER_S = int(os.environ.get("MESSAGING_UNKNOWN_RESEND_AFTER_S", "60"))
# Polling: the first getsendprogress this long after the send, then a quarter of the task's
# age (at least 1 s, at most 5 min) until DingTalk says done; read status is refreshed every
# half of the task's age (1 min to 1 h) until MESSAGING_POLL_WINDOW_S after the send
# (DingTalk keeps a task 24 h, PROTOCOL 3.2-3.3), then polling stops.
MESSAGING_POLL_FIRST_S = float(os.environ.get("MESSAGING_POLL_FIRST_S", "1"))
MESSAGING_POLL_PROGRESS_MAX_S = float(os.environ.get("MESSAGING_POLL_PROGRESS_MAX_S", "300"))
MESSAGING_POLL_READ_MIN_S = float(os.environ.get("MESSAGING_POLL_READ_MIN_S", "60"))
MESSAGING_POLL_READ_MAX_S = float(os.environ.get("MESSAGING_POLL_READ_MAX_S", "3600"))
MESSAGING_POLL_WINDOW_S = int(os.environ.get("MESSAGING_POLL_WINDOW_S", str(24 * 3600)))
MESSAGING_POLL_LEASE_S = int(os.environ.get("MESSAGING_POLL_LEASE_S",
                                            str(CELERY_TASK_TIME_LIMIT + 30)))

# DingTalk: the emulator in development, https://oapi.dingtalk.com in production.
DINGTALK_BASE_URL = os.environ.get("DINGTALK_BASE_URL", "https://oapi.dingtalk.com")
# The new API (api.dingtalk.com: market orders). Empty: the host that goes with
# DINGTALK_BASE_URL, i.e. api.dingtalk.com for DingTalk's oapi host, else DINGTALK_BASE_URL
# itself (the emulator serves both APIs on one port).
DINGTALK_NEW_API_BASE_URL = os.environ.get("DINGTALK_NEW_API_BASE_URL", "")

# Tenant secrets at rest: comma-separated Fernet keys, newest first (newest encrypts, all decrypt).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

# Largest callback body we accept; DingTalk's pushes are a few KB.
CALLBACK_MAX_BODY_BYTES = int(os.environ.get("CALLBACK_MAX_BODY_BYTES", str(256 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = CALLBACK_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.SafeJSONParser"],
    # Every API view authenticates by API key (api/auth.py); nothing is open by default.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasApiKey"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    # One error shape for the whole API: {"error": {"code", "message", "details"}}.
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "dingsuite API",
    "DESCRIPTION": "Act for the DingTalk corps that installed your suite or internal app: "
                   "tenants, work notifications, media, directory and group chats. "
                   "Authenticate with `Authorization: Bearer dsk_...` (docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind` or a `status`: name their enums after the model.
    "ENUM_NAME_OVERRIDES": {
        "TenantKindEnum": "tenants.models.Tenant.Kind",
        "TenantStatusEnum": "tenants.models.Tenant.Status",
        "NotificationStatusEnum": "messaging.models.Notification.Status",
        "WebhookEventTypeEnum": "api.models.webhooks.WebhookEventType",
        "WebhookDeliveryStatusEnum": "api.models.webhooks.WebhookDelivery.Status",
    },
}
# Requests per API key (DRF's rate syntax); a key's own throttle_rate overrides it.
API_KEY_THROTTLE_RATE = os.environ.get("API_KEY_THROTTLE_RATE", "1200/min")
API_THROTTLE_CACHE = "default"
# Request bodies nested deeper are refused with a 400 (api/parsers.py).
API_MAX_JSON_DEPTH = int(os.environ.get("API_MAX_JSON_DEPTH", "32"))
# ... and larger JSON bodies with a 413 (a 100,000-userid notification is about 2 MB).
API_MAX_JSON_BYTES = int(os.environ.get("API_MAX_JSON_BYTES", str(4 * 1024 * 1024)))
# The seed's asyncsend_v2 waits this long for its batch's DingTalk task id before answering
# 202 queued (the limiter is holding it); api/services/seed.py.
API_SEED_SEND_WAIT_S = float(os.environ.get("API_SEED_SEND_WAIT_S", "10"))

# Outbound webhooks (api/services/webhooks*.py, docs/webhooks.md). URLs that resolve to private,
# loopback, link-local or otherwise non-global addresses are refused, at registration and at each
# delivery, unless this is on (the demo and the tests, whose receivers run on 127.0.0.1).
API_WEBHOOK_ALLOW_PRIVATE = os.environ.get("API_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true")
# Short: a slow receiver holds a worker thread. No redirects are followed.
API_WEBHOOK_CONNECT_TIMEOUT_S = float(os.environ.get("API_WEBHOOK_CONNECT_TIMEOUT_S", "3"))
API_WEBHOOK_READ_TIMEOUT_S = float(os.environ.get("API_WEBHOOK_READ_TIMEOUT_S", "5"))
# 5xx, timeouts and connection errors wait 10, 20, 40 ... s (jittered: 50-100% of it) up to an
# hour; after this many attempts the delivery fails (4xx fail at once).
API_WEBHOOK_RETRY_BASE_S = float(os.environ.get("API_WEBHOOK_RETRY_BASE_S", "10"))
API_WEBHOOK_RETRY_MAX_S = float(os.environ.get("API_WEBHOOK_RETRY_MAX_S", "3600"))
API_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("API_WEBHOOK_MAX_ATTEMPTS", "8"))
# A claimed delivery is its worker's this long (past the timeouts): a dead worker's delivery is
# taken back by the sweep after it. A queued one not claimed this long lost its message.
API_WEBHOOK_LEASE_S = int(os.environ.get("API_WEBHOOK_LEASE_S", "60"))
API_WEBHOOK_REQUEUE_AFTER_S = int(os.environ.get("API_WEBHOOK_REQUEUE_AFTER_S", "30"))
# After a secret rotation the previous secret still signs (beside the new one) this long, so
# receivers can redeploy with the new one; the rotate call may ask for another window (0-7 days).
API_WEBHOOK_SECRET_OVERLAP_S = int(os.environ.get("API_WEBHOOK_SECRET_OVERLAP_S", "86400"))
# The notification scan re-reads this far behind its watermark: a notification whose completion
# committed late (completed_at stamped before commit) is still found.
API_WEBHOOK_SCAN_OVERLAP_S = int(os.environ.get("API_WEBHOOK_SCAN_OVERLAP_S", "300"))

# The shared cache (API throttling counts here): Redis when configured, so every process counts
# the same requests; otherwise per process.
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "dingsuite")
if REDIS_URL:
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT_S,
                    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# "json": one JSON object per line with the request id, tenant and task (production's default);
# "plain": a human line. Both scrub secret-looking values (config/log_format.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "config.log_format.JsonFormatter"}},
    "filters": {"without_traceback": {"()": "config.log_filters.WithoutTraceback"},
                "scrub_secrets": {"()": "config.log_format.ScrubSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if LOG_FORMAT == "json" else "plain",
                             "filters": ["scrub_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # A probe with a foreign Host header is answered 400; one line, not a traceback.
        "django.security.DisallowedHost": {"handlers": ["console"], "level": "WARNING",
                                           "filters": ["without_traceback"],
                                           "propagate": False},
    },
}

# Messaging: limits (messaging/limiter)
# DingTalk's quotas as the limiter's defaults (PROTOCOL 3.1, 10; messaging/limiter/rules.py).
# Recipients per minute per (app, corp): 143103 / 143203.
MESSAGING_LIMIT_APP_CORP_PER_MINUTE = int(os.environ.get("MESSAGING_LIMIT_APP_CORP_PER_MINUTE",
                                                         "5000"))
# Per suite across all its corps (143204) and per corp across its internal apps (143104):
# DingTalk publishes the codes, not the numbers (PROTOCOL UNCERTAIN); 5000, its one figure.
MESSAGING_LIMIT_SUITE_PER_MINUTE = int(os.environ.get("MESSAGING_LIMIT_SUITE_PER_MINUTE", "5000"))
MESSAGING_LIMIT_CORP_PER_MINUTE = int(os.environ.get("MESSAGING_LIMIT_CORP_PER_MINUTE", "5000"))
# Per-minute windows are this much longer than DingTalk's: a send reaches it after we admit it.
MESSAGING_LIMIT_MINUTE_MARGIN_S = float(os.environ.get("MESSAGING_LIMIT_MINUTE_MARGIN_S", "1"))
MESSAGING_LIMIT_APP_API_PER_SECOND = int(os.environ.get("MESSAGING_LIMIT_APP_API_PER_SECOND",
                                                        "20"))
# Budgets shared between tenants are also kept at the same rate over about this many seconds,
# in whole batches, at least one (messaging/limiter/rules.py smooth_rule): one tenant cannot
# take the suite's minute in a burst. 1 s: one batch per batch interval at PROTOCOL's rates, so
# another tenant's small send waits at most about one interval. 0 turns it off.
MESSAGING_LIMIT_SMOOTH_S = float(os.environ.get("MESSAGING_LIMIT_SMOOTH_S", "1"))
# One egress IP: 10,000 calls per 20 s across all APIs, then a 5-minute ban.
MESSAGING_LIMIT_EGRESS_CALLS = int(os.environ.get("MESSAGING_LIMIT_EGRESS_CALLS", "10000"))
MESSAGING_LIMIT_EGRESS_WINDOW_S = float(os.environ.get("MESSAGING_LIMIT_EGRESS_WINDOW_S", "20"))
# Take the egress budget per DingTalk request, in the transport (messaging/limiter/egress.py).
MESSAGING_EGRESS_GATE = os.environ.get("MESSAGING_EGRESS_GATE", "1") not in ("0", "false", "")
# The egress IP's budget name: processes that leave through one IP (one NAT) share one name.
MESSAGING_EGRESS_NAME = os.environ.get("MESSAGING_EGRESS_NAME", "default")
# {"<suite_key or appkey>": {"MESSAGING_LIMIT_...": value}}: per-suite limits (set in code).
MESSAGING_LIMIT_OVERRIDES: dict[str, dict[str, float]] = {}
MESSAGING_LIMITER_REDIS_PREFIX = os.environ.get("MESSAGING_LIMITER_REDIS_PREFIX",
                                                "dingsuite:limiter:")
# A hung Redis costs an acquire this long; it then refuses (fails closed) with this retry hint.
MESSAGING_LIMITER_REDIS_TIMEOUT_S = float(os.environ.get("MESSAGING_LIMITER_REDIS_TIMEOUT_S",
                                                         "0.25"))
MESSAGING_LIMITER_UNAVAILABLE_RETRY_S = float(
    os.environ.get("MESSAGING_LIMITER_UNAVAILABLE_RETRY_S", "1"))
# End of Messaging: limits

# Identity: tenant-user SSO with the legacy GET user/getuserinfo (no unionid in its answer)
# instead of topapi/v2/user/getuserinfo (PROTOCOL-ISV 1.2).
IDENTITY_SSO_LEGACY_GETUSERINFO = env_bool("IDENTITY_SSO_LEGACY_GETUSERINFO", False)

# The later areas keep their settings in their own modules (config/settings/parts/).
from config.settings.parts import commerce as _commerce  # noqa: E402
from config.settings.parts import directory as _directory  # noqa: E402
from config.settings.parts import identity as _identity  # noqa: E402
from config.settings.parts import lifecycle as _lifecycle  # noqa: E402
from config.settings.parts.commerce import *  # noqa: E402,F403
from config.settings.parts.directory import *  # noqa: E402,F403
from config.settings.parts.identity import *  # noqa: E402,F403
from config.settings.parts.lifecycle import *  # noqa: E402,F403

for _part in (_identity, _commerce, _directory, _lifecycle):
    CELERY_BEAT_SCHEDULE.update(_part.BEAT_SCHEDULE)

