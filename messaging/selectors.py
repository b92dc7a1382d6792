"""Reads of the messaging app: notifications, their recipients and batches, by tenant."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from messaging.errors import NotificationNotFound
from messaging.models import Notification, NotificationBatch, Recipient
from tenants.models import Tenant


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
