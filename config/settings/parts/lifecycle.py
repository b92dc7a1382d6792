"""Settings of the lifecycle area (imported by config/settings/base.py): what happens to a
customer's data once they leave (tenants/services/lifecycle.py, docs/data-lifecycle.md)."""

import os

from celery.schedules import crontab

# Days a relieved tenant's data is kept before the daily sweep exports and deletes it, for suites
# whose data_grace_days is empty (PROTOCOL-ISV 5.3: help the customer back it up, then delete).
TENANTS_DATA_GRACE_DAYS = int(os.environ.get("TENANTS_DATA_GRACE_DAYS", "30"))
# Where exports taken before a deletion are written (one JSON file per tenant, mode 0600).
# Empty: <DINGSUITE_VAR_DIR>/tenant-exports.
TENANTS_EXPORT_DIR = os.environ.get("TENANTS_EXPORT_DIR", "")
# How long a sweep or an operator holds a tenant it is exporting and deleting; a holder that
# died is taken over by the next sweep once this has passed.
TENANTS_DATA_LEASE_S = int(os.environ.get("TENANTS_DATA_LEASE_S", "1800"))

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {
    # Daily at 04:41 in DingTalk's time zone (20:41 UTC): off the hour, after the 03:17 purge.
    "tenants-data-sweep": {
        "task": "tenants.tenant_data_sweep",
        "schedule": crontab(hour=20, minute=41),
    },
}
