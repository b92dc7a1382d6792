"""Reads of the messaging app: notifications, their recipients and batches, by tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from messaging.errors import NotificationNotFound
from messaging.models import Notification, NotificationBatch, Recipient
from tenants.models import Tenant

BatchStatus = NotificationBatch.Status


def notification_get(*, tenant: Tenant, id: int) -> Notification:  # noqa: A002 (the API's name)
    """The tenant's notification; NotificationNotFound for another tenant's or none."""
    notification = Notification.objects.filter(tenant=tenant, pk=id).first()
    if notification is None:
        raise NotificationNotFound("no such notification", extra={"id": id})
    return notification


def notification_recipients(*, tenant: Tenant, notification: Notification,
                            outcome: str | None = None) -> QuerySet[Recipient]:
    """Its recipients in planning order, optionally only those with one outcome."""
    rows = Recipient.objects.filter(tenant=tenant, notification=notification)
    if outcome is not None:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("id")


def notification_outcome_counts(*, tenant: Tenant,
                                notification: Notification) -> dict[str, int]:
    """{outcome: n} counted now (the row's `counts` is the last refreshed copy)."""
    rows = (Recipient.objects.filter(tenant=tenant, notification=notification)
            .values_list("outcome").annotate(n=Count("id")))
    return {outcome: n for outcome, n in rows}


def notification_batches(*, tenant: Tenant,
                         notification: Notification) -> QuerySet[NotificationBatch]:
    """Its batches in order."""
    return NotificationBatch.objects.filter(tenant=tenant, notification=notification).order_by(
        "seq")


def notifications_list(*, tenant: Tenant, status: str | None = None,
                       created_after: datetime | None = None,
                       created_before: datetime | None = None) -> QuerySet[Notification]:
    """The tenant's notifications, newest first, optionally by status and creation time
    (created_after inclusive, created_before exclusive)."""
    rows = Notification.objects.filter(tenant=tenant)
    if status is not None:
        rows = rows.filter(status=status)
    if created_after is not None:
        rows = rows.filter(created_at__gte=created_after)
    if created_before is not None:
        rows = rows.filter(created_at__lt=created_before)
    return rows.order_by("-id")


@dataclass(frozen=True)
class NotificationProgress:
    """Its batches by where they are: `sent` DingTalk has a task for, `failed` DingTalk refused,
    `pending` still to send (pending, sending, held, unknown without a task id), `cancelled`
    never sent; `percent` of the batches not cancelled that are sent or failed."""

    total: int
    sent: int
    failed: int
    pending: int
    cancelled: int
    percent: int


_SENT = (BatchStatus.SENT, BatchStatus.DONE, BatchStatus.UNKNOWN)


def notification_progress(*, tenant: Tenant, notification: Notification) -> NotificationProgress:
    """How far its batches are (one query)."""
    counts = NotificationBatch.objects.filter(tenant=tenant, notification=notification).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status__in=_SENT) & (
            Q(task_id__isnull=False) | Q(status=BatchStatus.DONE))),
        failed=Count("id", filter=Q(status=BatchStatus.FAILED)),
        cancelled=Count("id", filter=Q(status=BatchStatus.CANCELLED)),
    )
    live = counts["total"] - counts["cancelled"]
    pending = live - counts["sent"] - counts["failed"]
    done = counts["sent"] + counts["failed"]
    percent = 100 if live == 0 and notification.status in Notification.FINAL else (
        done * 100 // live if live else 0)
    return NotificationProgress(total=counts["total"], sent=counts["sent"],
                                failed=counts["failed"], pending=pending,
                                cancelled=counts["cancelled"], percent=percent)


def notification_batch_by_task(*, tenant: Tenant, task_id: int) -> NotificationBatch | None:
    """The tenant's batch DingTalk answered `task_id` for (None: not one of its sends)."""
    return (NotificationBatch.objects.filter(tenant=tenant, task_id=task_id)
            .select_related("notification").first())


def notification_first_batch(*, tenant: Tenant, notification: Notification,
                             ) -> NotificationBatch | None:
    """Its first batch (a single-batch notification's only one), None before planning."""
    return NotificationBatch.objects.filter(tenant=tenant, notification=notification,
                                            seq=1).first()
