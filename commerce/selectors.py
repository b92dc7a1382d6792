"""Reads of the commerce ledger for other services and the API: a tenant's entitlement now,
its orders."""

from __future__ import annotations

from django.db.models import QuerySet

from commerce.models import Entitlement, MarketOrder
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
