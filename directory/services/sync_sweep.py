"""The beat-driven sweep of the directory's syncs: what the Celery task alone cannot promise.

Every minute it re-sends syncs queued but never taken (a lost message), hands syncs whose
worker died (lease passed) to a new task that resumes from the checkpoint, retries failed syncs
whose backoff passed, asks for each tenant's nightly sync when its minute comes, and forgets
applied contact-row ids older than DIRECTORY_APPLIED_EVENT_DAYS.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from core import clock
from directory.models import AppliedContactEvent, DirectorySync
from directory.services.sync import sync_request
from tenants.models import Tenant

Status = DirectorySync.Status


def nightly_next(*, tenant_id: int, after: datetime) -> datetime:
    """The tenant's next nightly sync: DIRECTORY_NIGHTLY_HOUR (UTC) at a minute 5-54 and a
    second derived from the tenant id, so the time is stable and tenants spread out off the
    hour (PROTOCOL-ISV 4.2: schedule batch syncs off the hour)."""
    digest = int.from_bytes(hashlib.sha256(f"directory:{tenant_id}".encode()).digest()[:8],
                            "big")
    minute, second = 5 + digest % 50, (digest // 50) % 60
    when = after.replace(hour=settings.DIRECTORY_NIGHTLY_HOUR, minute=minute, second=second,
                         microsecond=0)
    return when if when > after else when + timedelta(days=1)


def syncs_sweep() -> dict[str, int]:
    """One pass of the sweep; returns how many syncs it moved, by kind."""
    from directory.tasks import tenant_sync

    now = clock.now()
    due = DirectorySync.objects.filter(
        Q(status=Status.QUEUED, next_attempt_at__lte=now)
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
        | Q(status=Status.RUNNING, lease_expires_at__lt=now))
    counts = {"resent": 0, "nightly": 0, "forgotten": 0}
    for sync in due.only("pk", "tenant_id", "status"):
        if sync.status == Status.QUEUED:
            DirectorySync.objects.filter(pk=sync.pk, status=Status.QUEUED).update(
                next_attempt_at=now + timedelta(seconds=settings.DIRECTORY_SYNC_LEASE))
        tenant_sync.delay(sync.tenant_id)
        counts["resent"] += 1
    nightly = DirectorySync.objects.filter(nightly_due_at__lte=now).select_related("tenant")
    for sync in nightly:
        DirectorySync.objects.filter(pk=sync.pk).update(
            nightly_due_at=nightly_next(tenant_id=sync.tenant_id, after=now))
        if sync.tenant.status == Tenant.Status.AUTHORIZED and not sync.tenant.suspended:
            sync_request(tenant=sync.tenant, reason="nightly")
            counts["nightly"] += 1
    # Tenants with no mirror yet (internal apps, which no authorization announces, and
    # tenants older than the directory app) get their first sync, a few per pass.
    unmirrored = Tenant.objects.filter(status=Tenant.Status.AUTHORIZED, suspended=False).exclude(
        pk__in=DirectorySync.objects.values("tenant_id"))[:settings.DIRECTORY_SWEEP_NEW_TENANTS]
    for tenant in unmirrored:
        sync_request(tenant=tenant, reason="first")
        counts["first"] = counts.get("first", 0) + 1
    horizon = now - timedelta(days=settings.DIRECTORY_APPLIED_EVENT_DAYS)
    counts["forgotten"], _ = AppliedContactEvent.objects.filter(applied_at__lt=horizon).delete()
    return counts
