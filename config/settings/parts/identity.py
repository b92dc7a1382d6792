"""Settings of the identity area (imported by config/settings/base.py)."""

import os  # noqa: F401  (each setting reads its environment variable)

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {}
