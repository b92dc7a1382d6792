"""Settings of the directory area (imported by config/settings/base.py)."""

import os

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {}

# The mirror is fresh (readers such as messaging trust it) when a full sync succeeded within
# this many seconds and none failed since: a nightly sync plus half a day of slack.
DIRECTORY_FRESH_MAX_AGE = int(os.environ.get("DIRECTORY_FRESH_MAX_AGE", str(36 * 3600)))
