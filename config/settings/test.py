"""Test settings: PostgreSQL and Redis from the environment (the Makefile and .ci/run set them)."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import env_list

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS",
    "dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=,dGVzdC1rZXktb2xkZXItbm90LXNlY3JldC0zMmJ5dGU=",
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DINGTALK_BASE_URL = os.environ.get("DINGTALK_BASE_URL", "http://127.0.0.1:9")
# Empty: the new API follows DINGTALK_BASE_URL (the emulator), also when a test changes it.
DINGTALK_NEW_API_BASE_URL = os.environ.get("DINGTALK_NEW_API_BASE_URL", "")

# core.clock keeps its offset in this file, so the Celery workers the tests start (which inherit
# this environment) move with the test process's clock. One file per test session.
os.environ.setdefault(
    "DINGSUITE_CLOCK_FILE",
    os.path.join(tempfile.gettempdir(), f"dingsuite-clock-{os.getpid()}"),
)

# The limiter's Redis keys are this run's own (its workers inherit the variable), never those of
# a dingsuite that shares the Redis.
MESSAGING_LIMITER_REDIS_PREFIX = os.environ.setdefault(
    "MESSAGING_LIMITER_REDIS_PREFIX", f"dingsuite:test:{os.getpid()}:limiter:")

# The shared cache's keys (API throttling) are this run's own.
CACHE_KEY_PREFIX = f"dingsuite:test:{os.getpid()}:cache"
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX  # noqa: F405

# Tests move the clock forward and back to real time: calls stamped on an advanced clock would
# stay "recent" in the one shared egress budget. Tests of the gate lower this on a budget name
# of their own.
MESSAGING_LIMIT_EGRESS_CALLS = 1_000_000

# Smoothing shared budgets (one batch per interval) is off unless a test turns it on: tests send
# several batches back to back and move the clock themselves.
MESSAGING_LIMIT_SMOOTH_S = float(os.environ.get("MESSAGING_LIMIT_SMOOTH_S", "0"))

# Tests that start no worker publish into kombu's in-process memory transport, never into a
# shared Redis; the celery_worker fixture points this process at its own broker and queues.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")

# The tests' webhook receivers run on 127.0.0.1; the tests of the refusal turn this off.
API_WEBHOOK_ALLOW_PRIVATE = True

# Static files straight from the apps (no collectstatic in a test run), looked up per request.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
