"""Webhook events: recorded with one delivery per endpoint that hears them, queued on commit.

Tenant events come from the tenants lifecycle signals (api/receivers.py). Notification events
come from a scan: messaging finishes notifications in several places (planning, settling,
cancel), so the scan reads notifications that finished since a watermark on completed_at,
minus an overlap for completions that committed late, and records the events not yet recorded
(the unique (event type, notification) makes a second scan, or the fast path, harmless).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from api.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookScanMark,
)
from api.services.webhooks_queue import deliveries_enqueue_on_commit
from core import clock
from messaging.models import Notification
from tenants.models import Tenant

logger = logging.getLogger("api.webhooks")

NStatus = Notification.Status
# A notification's final status -> its event (cancelled and recalled ones were the product's own
# doing: no event). Partially failed is completed with some recipients failed (see counts).
NOTIFICATION_EVENTS = {
    NStatus.COMPLETED: WebhookEventType.NOTIFICATION_COMPLETED,
    NStatus.PARTIALLY_FAILED: WebhookEventType.NOTIFICATION_COMPLETED,
    NStatus.FAILED: WebhookEventType.NOTIFICATION_FAILED,
}
SCAN_MARK = "notifications"
SCAN_BATCH = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def endpoints_hearing(*, tenant: Tenant, event_type: str) -> QuerySet[WebhookEndpoint]:
    """The active endpoints of the tenant's owner (its suite, or the internal app itself) that
    hear `event_type`."""
    owner = (Q(suite_id=tenant.suite_id) if tenant.kind == Tenant.Kind.SUITE
             else Q(app_id=tenant.pk))
    return WebhookEndpoint.objects.filter(owner, pk__in=_hearing(event_type))


def _hearing(event_type: str) -> list[int]:
    """The active endpoints that hear `event_type` (all types when their list is empty).
    Read in Python: JSON containment is a PostgreSQL lookup (the demo runs SQLite), and active
    endpoints are few."""
    return [endpoint.pk for endpoint in WebhookEndpoint.objects.filter(is_active=True)
            .only("pk", "events") if endpoint.hears(event_type)]


def tenant_data(tenant: Tenant) -> dict:
    return {"corp_id": tenant.corp_id, "corp_name": tenant.corp_name, "kind": tenant.kind,
            "status": tenant.status, "suspended": tenant.suspended,
            "agent_id": tenant.agent_id,
            "suite_key": tenant.suite.suite_key if tenant.suite_id else None,
            "authorized_at": _iso(tenant.authorized_at), "relieved_at": _iso(tenant.relieved_at)}


def notification_data(notification: Notification) -> dict:
    return {"id": notification.pk, "corp_id": notification.tenant.corp_id,
            "status": notification.status, "idempotency_key": notification.idempotency_key,
            "recipient_count": notification.recipient_count, "counts": notification.counts,
            "last_error": notification.last_error[:500],
            "created_at": _iso(notification.created_at),
            "completed_at": _iso(notification.completed_at)}


def webhook_event_record(*, event_type: str, tenant: Tenant, data: dict,
                         notification: Notification | None = None,
                         dedupe_key: str | None = None) -> WebhookEvent | None:
    """Record the event and a delivery per endpoint that hears it, queued after commit; None
    when nobody hears it or it was recorded already (same dedupe key or notification)."""
    endpoints = list(endpoints_hearing(tenant=tenant, event_type=event_type).only("pk"))
    if not endpoints:
        return None
    now = clock.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event_type, "created_at": _iso(now), "data": data}
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=event_id, event_type=event_type, tenant=tenant,
                notification=notification, dedupe_key=dedupe_key, payload=payload,
                created_at=now)
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(event=event, endpoint=e, next_attempt_at=now, queued_at=now,
                                created_at=now) for e in endpoints)
            deliveries_enqueue_on_commit(delivery_ids=[d.pk for d in deliveries])
    except IntegrityError:
        return None  # recorded already: a repeated signal, or the scan and the fast path met
    logger.info("webhook event %s %s for %s: %d deliveries", event_type, event.event_id,
                tenant.corp_id, len(endpoints))
    return event


def tenant_event_record(*, event_type: str, tenant: Tenant) -> WebhookEvent | None:
    """A tenant lifecycle event, once per committed change of the tenant row."""
    tenant = Tenant.objects.select_related("suite").get(pk=tenant.pk)
    stamp = _iso(tenant.updated_at) or ""
    return webhook_event_record(event_type=event_type, tenant=tenant,
                                data={"tenant": tenant_data(tenant)},
                                dedupe_key=f"{event_type}:{tenant.pk}:{stamp}")


def notification_events_record(*, notifications: Iterable[Notification]) -> int:
    """Record the finished-notification event of each (unless recorded); how many were new."""
    made = 0
    for notification in notifications:
        event_type = NOTIFICATION_EVENTS.get(notification.status)
        if event_type is None:
            continue
        made += webhook_event_record(
            event_type=event_type, tenant=notification.tenant,
            data={"notification": notification_data(notification)},
            notification=notification) is not None
    return made


def _heard_by_owner(event_type: str) -> Q:
    """Notifications whose tenant's owner has an active endpoint hearing `event_type`."""
    hears = Q(pk__in=_hearing(event_type))
    suite_ok = Exists(WebhookEndpoint.objects.filter(hears, suite_id=OuterRef("tenant__suite_id")))
    app_ok = Exists(WebhookEndpoint.objects.filter(hears, app_id=OuterRef("tenant_id")))
    return (Q(tenant__kind=Tenant.Kind.SUITE) & Q(suite_ok)) | (
        Q(tenant__kind=Tenant.Kind.INTERNAL_APP) & Q(app_ok))


def _unrecorded(statuses: list[str], event_type: str, since: datetime) -> QuerySet:
    recorded = WebhookEvent.objects.filter(event_type=event_type, notification=OuterRef("pk"))
    return (Notification.objects.filter(status__in=statuses, completed_at__gte=since)
            .filter(_heard_by_owner(event_type)).filter(~Exists(recorded))
            .select_related("tenant", "tenant__suite").order_by("completed_at", "pk"))


def notification_events_scan(*, limit: int = SCAN_BATCH) -> int:
    """Record the events of notifications that finished since the watermark (minus the
    overlap); how many were new. The watermark moves to this scan's start, or, when a type
    filled its page, to the last completion read (the rest are read next time)."""
    now = clock.now()
    overlap = timedelta(seconds=settings.API_WEBHOOK_SCAN_OVERLAP_S)
    # A first scan starts an overlap ago: no events for a history nobody subscribed to.
    mark, _ = WebhookScanMark.objects.get_or_create(name=SCAN_MARK,
                                                    defaults={"mark": now - overlap})
    since, handled_to, made = mark.mark - overlap, now, 0
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        # Nobody listens: nothing to read (an endpoint made later hears from then on).
        WebhookScanMark.objects.filter(name=SCAN_MARK, mark__lt=now).update(mark=now)
        return 0
    by_type: dict[str, list[str]] = {}
    for status, event_type in NOTIFICATION_EVENTS.items():
        by_type.setdefault(event_type, []).append(status)
    for event_type, statuses in by_type.items():
        found = list(_unrecorded(statuses, event_type, since)[:limit])
        made += notification_events_record(notifications=found)
        if len(found) >= limit:
            handled_to = min(handled_to, found[-1].completed_at)
    WebhookScanMark.objects.filter(name=SCAN_MARK, mark__lt=handled_to).update(mark=handled_to)
    return made


def notification_event_record_by_id(*, notification_id: int) -> int:
    """The fast path's entry: record the event of one notification if it is finished."""
    found = (Notification.objects.select_related("tenant", "tenant__suite")
             .filter(pk=notification_id, status__in=list(NOTIFICATION_EVENTS)))
    return notification_events_record(notifications=found)
