"""Local development: embedded defaults (SQLite, a filesystem broker, the emulator as DingTalk)."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_list

DEBUG = True
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"  # noqa: F405
DINGTALK_BASE_URL = os.environ.get("DINGTALK_BASE_URL", "http://127.0.0.1:9000")

# A fixed development key so `make run` works from a fresh clone; production has no default.
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", "ZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQtMzJieXQ="
)

if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("REDIS_URL"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (pidbox) messages; kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# The demo's webhook receivers run on this machine: allow private and loopback URLs here only.
API_WEBHOOK_ALLOW_PRIVATE = True
