"""Reads of the commerce ledger for other services and the API: a tenant's entitlement now,
its orders."""

from __future__ import annotations

from django.db.models import QuerySet

from commerce.models import Entitlement, InAppOrder, MarketOrder
from commerce.services.derive import EntitlementFacts
from commerce.services.entitlements import entitlement_facts
from core import clock
from tenants.models import Tenant


def tenant_entitlement(tenant: Tenant) -> EntitlementFacts:
    """What the tenant may use at this moment: ask it before paid work.

    The stored row is exact until its `next_change_at`; past that (an order ended and the
    sweep has not run yet) the answer is derived from the orders again, without writing.
    """
    row = Entitlement.objects.filter(tenant=tenant).first()
    now = clock.now()
    if row is None or (row.next_change_at is not None and row.next_change_at <= now):
        return entitlement_facts(tenant=tenant, now=now)
    return EntitlementFacts(
        kind=row.kind, expired=row.expired, goods_code=row.goods_code, item_code=row.item_code,
        item_name=row.item_name, quantity=row.quantity, max_of_people=row.max_of_people,
        min_of_people=row.min_of_people, order_pk=row.order_id, active_from=row.active_from,
        current_until=row.current_until, active_until=row.active_until,
        next_change_at=row.next_change_at)


def tenant_entitlement_row(*, tenant: Tenant) -> Entitlement:
    """The stored entitlement (an unsaved NONE one when the tenant never had any)."""
    row = Entitlement.objects.filter(tenant=tenant).select_related("order").first()
    return row if row is not None else Entitlement(tenant=tenant)


def tenant_orders(*, tenant: Tenant) -> QuerySet[MarketOrder]:
    """The tenant's orders, newest first."""
    return MarketOrder.objects.filter(tenant=tenant).order_by("-id")


def entitlement_snapshot(*, tenant: Tenant) -> dict:
    """The entitlement as the API and the webhooks show it (live: an expiry shows before the
    sweep records it); datetimes as datetimes."""
    row, facts = tenant_entitlement_row(tenant=tenant), tenant_entitlement(tenant)
    order_id = (MarketOrder.objects.filter(pk=facts.order_pk)
                .values_list("order_id", flat=True).first() if facts.order_pk else None)
    return {
        "kind": facts.kind, "active": facts.kind != Entitlement.Kind.NONE and not facts.expired,
        "expired": facts.expired, "goods_code": facts.goods_code, "item_code": facts.item_code,
        "item_name": facts.item_name, "quantity": facts.quantity,
        "max_of_people": facts.max_of_people, "min_of_people": facts.min_of_people,
        "order_id": order_id, "active_from": facts.active_from,
        "current_until": facts.current_until, "active_until": facts.active_until,
        "enterprise_tryout": row.enterprise_tryout, "version": row.version,
        "changed_at": row.changed_at,
    }


def order_snapshot(order: MarketOrder) -> dict:
    """One order as the API and the `order.paid` webhook show it; datetimes as datetimes."""
    in_app = InAppOrder.objects.filter(order=order).values_list("status", flat=True).first()
    return {
        "order_id": order.order_id, "status": order.status, "source": order.source,
        "order_type": order.order_type, "charge_type": order.charge_type,
        "goods_code": order.goods_code, "goods_name": order.goods_name,
        "item_code": order.item_code, "item_name": order.item_name,
        "quantity": order.quantity, "max_of_people": order.max_of_people,
        "min_of_people": order.min_of_people, "pay_fee": order.pay_fee,
        "paid_at": order.paid_at, "service_start_at": order.service_start_at,
        "service_stop_at": order.service_stop_at, "in_app": order.in_app,
        "in_app_status": in_app, "verify_error": order.verify_error,
        "created_at": order.created_at,
    }
