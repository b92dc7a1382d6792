"""What a tenant's lifecycle does to its unsent work notifications (tenants/signals.py).

A batch found at send time for a stopped or suspended tenant is HELD (services/sending.py);
when the tenant is restored or resumed, its held batches go back to PENDING and are sent. A
relieved tenant's unsent batches are cancelled and their ledger bookings given back. Sent
batches are left to the poller either way (their outcomes are DingTalk's).
"""

from __future__ import annotations

import logging

from django.db import transaction

from core import clock
from messaging.models import NotificationBatch, Recipient
from messaging.services.batch_queue import batch_send_enqueue_on_commit
from messaging.services.ledger import ledger_release
from tenants.models import Tenant

logger = logging.getLogger("messaging.lifecycle")

BatchStatus = NotificationBatch.Status


def tenant_batches_resume(*, tenant: Tenant) -> list[int]:
    """Held batches of an active tenant back to PENDING and queued; returns their ids."""
    if not tenant.is_active:
        return []
    with transaction.atomic():
        ids = list(NotificationBatch.objects.select_for_update()
                   .filter(tenant=tenant, status=BatchStatus.HELD).values_list("id", flat=True))
        NotificationBatch.objects.filter(id__in=ids, status=BatchStatus.HELD).update(
            status=BatchStatus.PENDING, next_attempt_at=clock.now(), last_error="")
        for batch_id in ids:
            batch_send_enqueue_on_commit(batch_id=batch_id)
    if ids:
        logger.info("tenant %s active again: %s held batch(es) queued", tenant.corp_id, len(ids))
    return ids


def tenant_batches_cancel(*, tenant: Tenant) -> list[int]:
    """A relieved tenant's unsent batches cancelled, their bookings released; returns ids."""
    with transaction.atomic():
        batches = list(NotificationBatch.objects.select_for_update()
                       .filter(tenant=tenant, status__in=(BatchStatus.PENDING, BatchStatus.HELD)))
        ids = [batch.pk for batch in batches]
        NotificationBatch.objects.filter(id__in=ids).update(
            status=BatchStatus.CANCELLED, next_attempt_at=None, lease_expires_at=None,
            last_error="the tenant relieved the app")
        Recipient.objects.filter(batch_id__in=ids, outcome=Recipient.Outcome.PENDING).update(
            outcome=Recipient.Outcome.CANCELLED)
        for batch in batches:
            if batch.ledger_day is not None:
                ledger_release(tenant=tenant, day=batch.ledger_day, userids=batch.userids,
                               content_digest=batch.content_digest)
    if ids:
        logger.info("tenant %s relieved: %s unsent batch(es) cancelled", tenant.corp_id,
                    len(ids))
    return ids
