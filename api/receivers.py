"""The api app's receivers: tenant lifecycle signals and finished notifications become webhook
events (connected in apps.py).

Each runs after the change committed, in the sending process (usually a Celery worker): it
writes rows and queues deliveries on commit, never an HTTP call. A failure is logged, never
raised: the signal's other receivers (messaging's) must still run.
"""

from __future__ import annotations

import logging

from django.db import transaction

from api.models import WebhookEventType
from api.services.webhooks_commerce import entitlement_event_record, order_paid_event_record
from api.services.webhooks_directory import directory_event_record
from api.services.webhooks_events import (
    NOTIFICATION_EVENTS,
    notification_event_record_by_id,
    tenant_event_record,
)

logger = logging.getLogger("api.webhooks")


def _tenant_receiver(event_type: str):
    def receive(sender, tenant, **kwargs) -> None:
        try:
            tenant_event_record(event_type=event_type, tenant=tenant)
        except Exception:
            logger.exception("webhook event %s for tenant %s not recorded", event_type,
                             getattr(tenant, "pk", None))

    receive.__name__ = f"on_{event_type.replace('.', '_')}"
    return receive


TENANT_RECEIVERS = {
    "tenant_authorized": _tenant_receiver(WebhookEventType.TENANT_AUTHORIZED),
    "tenant_changed": _tenant_receiver(WebhookEventType.TENANT_CHANGED),
    "tenant_relieved": _tenant_receiver(WebhookEventType.TENANT_RELIEVED),
    "tenant_app_stopped": _tenant_receiver(WebhookEventType.TENANT_APP_STOPPED),
    "tenant_app_restored": _tenant_receiver(WebhookEventType.TENANT_APP_RESTORED),
}


def _notification_record(notification_id: int) -> None:
    try:
        notification_event_record_by_id(notification_id=notification_id)
    except Exception:
        logger.exception("webhook event of notification %s not recorded (the scan will)",
                         notification_id)


def on_notification_finished(sender, notification, **kwargs) -> None:
    """messaging.signals.notification_finished (sent after commit)."""
    _notification_record(notification.pk)


def on_notification_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """The fast path until messaging sends notification_finished: a save() that set a final
    status (settling does) records the event after its commit. Finishes written with
    update() (planning) send nothing; the scan finds those."""
    if instance.status not in NOTIFICATION_EVENTS:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    pk = instance.pk
    transaction.on_commit(lambda: _notification_record(pk))


def on_entitlement_changed(sender, tenant, **kwargs) -> None:
    """commerce.signals.entitlement_changed (sent after commit)."""
    try:
        entitlement_event_record(tenant=tenant)
    except Exception:
        logger.exception("webhook event tenant.entitlement_changed for tenant %s not recorded",
                         getattr(tenant, "pk", None))


def on_order_paid(sender, tenant, order, **kwargs) -> None:
    """commerce.signals.order_paid (sent after commit)."""
    try:
        order_paid_event_record(tenant=tenant, order=order)
    except Exception:
        logger.exception("webhook event order.paid for order %s not recorded",
                         getattr(order, "pk", None))


def on_directory_changed(sender, tenant, reason="sync", generation=0, **kwargs) -> None:
    """directory.signals.directory_changed (sent after commit)."""
    try:
        directory_event_record(tenant=tenant, reason=reason, generation=generation)
    except Exception:
        logger.exception("webhook event directory.changed for tenant %s not recorded",
                         getattr(tenant, "pk", None))
