"""Settings of the directory area (imported by config/settings/base.py)."""

import os

# The mirror is fresh (readers such as messaging trust it) when a full sync succeeded within
# this many seconds and none failed since: a nightly sync plus half a day of slack.
DIRECTORY_FRESH_MAX_AGE = int(os.environ.get("DIRECTORY_FRESH_MAX_AGE", str(36 * 3600)))

# Calls per second per (app, API path) the sync makes: DingTalk allows 20 (PROTOCOL 10), a
# little is left for the app's other callers.
DIRECTORY_SYNC_QPS = int(os.environ.get("DIRECTORY_SYNC_QPS", "16"))
# A throttled call (90018, 90002, ...) is retried this many times, waiting 1, 2, 4... s (capped
# at 8 s), before the sync gives up and the sweep retries it later.
DIRECTORY_THROTTLE_RETRIES = int(os.environ.get("DIRECTORY_THROTTLE_RETRIES", "8"))
# A running sync's lease; renewed at every checkpoint (one department), so it only has to
# outlast one department's calls.
DIRECTORY_SYNC_LEASE = int(os.environ.get("DIRECTORY_SYNC_LEASE", "300"))
# A failed sync is retried after base * 2^(attempts-1) seconds, at most max.
DIRECTORY_SYNC_RETRY_BASE = int(os.environ.get("DIRECTORY_SYNC_RETRY_BASE", "60"))
DIRECTORY_SYNC_RETRY_MAX = int(os.environ.get("DIRECTORY_SYNC_RETRY_MAX", "3600"))
# The nightly sync runs at this UTC hour, at a minute and second derived from the tenant's id
# (stable, spread over minutes 5-54: never on the hour, when DingTalk's global limits bite,
# PROTOCOL-ISV 4.2).
DIRECTORY_NIGHTLY_HOUR = int(os.environ.get("DIRECTORY_NIGHTLY_HOUR", "19"))
# How long an applied contact row's eventId is remembered (duplicates come within minutes).
DIRECTORY_APPLIED_EVENT_DAYS = int(os.environ.get("DIRECTORY_APPLIED_EVENT_DAYS", "7"))

# A pushed contact row stamped further ahead of this server's clock than this many seconds is
# taken as stamped this far ahead, so a bad gmt_modified cannot freeze the entity (the newest
# stamp wins, and a full sync's reads are stamped with this clock).
DIRECTORY_ROW_MAX_AHEAD = int(os.environ.get("DIRECTORY_ROW_MAX_AHEAD", "300"))

# Ids an internal app's ids-only contact push re-fetches at most (each one a DingTalk call);
# for a push naming more, a full sync of the tenant is queued and reads the rest.
DIRECTORY_REFETCH_PER_EVENT = int(os.environ.get("DIRECTORY_REFETCH_PER_EVENT", "50"))

# Tenants without a mirror yet given their first sync per sweep pass (a minute).
DIRECTORY_SWEEP_NEW_TENANTS = int(os.environ.get("DIRECTORY_SWEEP_NEW_TENANTS", "20"))

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {
    "directory.syncs_sweep": {"task": "directory.syncs_sweep", "schedule": 60.0},
}
