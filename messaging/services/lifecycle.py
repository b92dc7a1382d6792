"""What a tenant's lifecycle does to its unsent work notifications (tenants/signals.py).

A batch found at send time for a stopped or suspended tenant is HELD (services/sending.py),
and so is a notification whose planning found it so; the tenant's other batches wait parked
(pacing promotes nothing for an inactive tenant). When the tenant is restored or resumed, its
held batches go back to PENDING and its window is promoted; held notifications that were
never planned are planned. A relieved tenant's unsent batches are cancelled and their ledger
bookings given back, and its held unplanned notifications cancelled. Sent batches are left to
the poller either way (their outcomes are DingTalk's).
"""

from __future__ import annotations

import logging

from django.db import transaction

from core import clock
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.finishing import notification_finished_on_commit
from messaging.services.ledger import ledger_release
from messaging.services.notifications import notification_plan_enqueue_on_commit
from messaging.services.pacing import tenant_sends_promote_on_commit
from messaging.services.settling import notification_settle
from tenants.models import Tenant

logger = logging.getLogger("messaging.lifecycle")

BatchStatus = NotificationBatch.Status


def _held_notifications(tenant: Tenant, *, planned: bool):
    return Notification.objects.filter(tenant=tenant, status=Notification.Status.HELD,
                                       planned_at__isnull=not planned)


def tenant_batches_resume(*, tenant: Tenant) -> list[int]:
    """Held batches of an active tenant back to PENDING (parked; its window is promoted) and
    its held unplanned notifications back to planning; returns the batch ids."""
    if not tenant.is_active:
        return []
    with transaction.atomic():
        ids = list(NotificationBatch.objects.select_for_update()
                   .filter(tenant=tenant, status=BatchStatus.HELD).values_list("id", flat=True))
        NotificationBatch.objects.filter(id__in=ids, status=BatchStatus.HELD).update(
            status=BatchStatus.PENDING, queued_at=None, next_attempt_at=None, last_error="")
        unplanned = list(_held_notifications(tenant, planned=False)
                         .values_list("id", flat=True))
        Notification.objects.filter(id__in=unplanned, status=Notification.Status.HELD).update(
            status=Notification.Status.ACCEPTED, plan_attempts=0, next_attempt_at=None,
            last_error="")
        for notification_id in unplanned:
            notification_plan_enqueue_on_commit(notification_id=notification_id)
        tenant_sends_promote_on_commit(tenant_id=tenant.pk)
    for notification_id in _affected(ids):
        notification_settle(notification_id=notification_id)
    if ids or unplanned:
        logger.info("tenant %s active again: %s held batch(es) resume, %s notification(s) to "
                    "plan", tenant.corp_id, len(ids), len(unplanned))
    return ids


def _affected(batch_ids: list[int]) -> list[int]:
    return list(NotificationBatch.objects.filter(id__in=batch_ids)
                .values_list("notification_id", flat=True).distinct())


def tenant_batches_cancel(*, tenant: Tenant) -> list[int]:
    """A relieved tenant's unsent batches cancelled, their bookings released; returns ids."""
    with transaction.atomic():
        batches = list(NotificationBatch.objects.select_for_update()
                       .filter(tenant=tenant, status__in=(BatchStatus.PENDING, BatchStatus.HELD)))
        ids = [batch.pk for batch in batches]
        NotificationBatch.objects.filter(id__in=ids).update(
            status=BatchStatus.CANCELLED, next_attempt_at=None, lease_expires_at=None,
            queued_at=None, last_error="the tenant relieved the app")
        unplanned = list(_held_notifications(tenant, planned=False)
                         .values_list("pk", flat=True))
        Notification.objects.filter(pk__in=unplanned).update(
            status=Notification.Status.CANCELLED, completed_at=clock.now(),
            last_error="the tenant relieved the app")
        for notification_id in unplanned:
            notification_finished_on_commit(notification_id=notification_id)
        Recipient.objects.filter(batch_id__in=ids, outcome=Recipient.Outcome.PENDING).update(
            outcome=Recipient.Outcome.CANCELLED)
        for batch in batches:
            if batch.ledger_day is not None:
                ledger_release(tenant=tenant, day=batch.ledger_day, userids=batch.userids,
                               content_digest=batch.content_digest)
    for notification_id in _affected(ids):
        notification_settle(notification_id=notification_id)
    if ids:
        logger.info("tenant %s relieved: %s unsent batch(es) cancelled", tenant.corp_id,
                    len(ids))
    return ids
