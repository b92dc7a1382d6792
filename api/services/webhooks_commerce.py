"""Webhook events of the commerce ledger: `tenant.entitlement_changed` (once per entitlement
version) and `order.paid` (once per in-app order), recorded from commerce's signals."""

from __future__ import annotations

from datetime import datetime

from api.models import WebhookEvent, WebhookEventType
from api.services.webhooks_events import tenant_data, webhook_event_record
from commerce.models import MarketOrder
from commerce.selectors import entitlement_snapshot, order_snapshot
from tenants.models import Tenant


def _json(data: dict) -> dict:
    return {key: (value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime)
                  else value) for key, value in data.items()}


def entitlement_event_record(*, tenant: Tenant) -> WebhookEvent | None:
    """`tenant.entitlement_changed` with the entitlement as it is now (one per version)."""
    tenant = Tenant.objects.select_related("suite").get(pk=tenant.pk)
    entitlement = _json(entitlement_snapshot(tenant=tenant))
    event_type = WebhookEventType.TENANT_ENTITLEMENT_CHANGED
    return webhook_event_record(
        event_type=event_type, tenant=tenant,
        data={"tenant": tenant_data(tenant), "entitlement": entitlement},
        dedupe_key=f"{event_type}:{tenant.pk}:{entitlement['version']}")


def order_paid_event_record(*, tenant: Tenant, order: MarketOrder) -> WebhookEvent | None:
    """`order.paid` for a verified in-app order (once per order)."""
    tenant = Tenant.objects.select_related("suite").get(pk=tenant.pk)
    order = MarketOrder.objects.get(pk=order.pk)
    return webhook_event_record(
        event_type=WebhookEventType.ORDER_PAID, tenant=tenant,
        data={"tenant": tenant_data(tenant), "order": _json(order_snapshot(order))},
        dedupe_key=f"{WebhookEventType.ORDER_PAID}:{order.pk}")
