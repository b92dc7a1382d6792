"""Orders and opens pushed before their corp authorized the suite join the tenant once it does:
at tenant_authorized, and by the beat sweep for any link that did not happen then (the signal's
receiver failed, or an order was committed while the tenant was being created)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef

from commerce.models import InAppOrder, MarketOrder, MemberOpen
from commerce.services.entitlements import entitlement_recompute
from commerce.signals import order_paid
from tenants.models import Tenant


def commerce_tenant_link(*, tenant: Tenant) -> int:
    """Link the tenant's unlinked orders and opens and recompute its entitlement; how many
    orders were linked. Paid in-app orders among them are announced (order_paid) now."""
    if tenant.kind != Tenant.Kind.SUITE:
        return 0
    with transaction.atomic():
        orders = MarketOrder.objects.filter(suite_id=tenant.suite_id, corp_id=tenant.corp_id,
                                            tenant__isnull=True)
        order_ids = list(orders.values_list("pk", flat=True))
        orders.update(tenant=tenant)
        MemberOpen.objects.filter(suite_id=tenant.suite_id, corp_id=tenant.corp_id,
                                  tenant__isnull=True).update(tenant=tenant)
        in_app = InAppOrder.objects.filter(order_id__in=order_ids, tenant__isnull=True)
        paid = list(in_app.filter(status=InAppOrder.Status.PAID).select_related("order"))
        in_app.update(tenant=tenant)
        for row in paid:
            order = row.order
            transaction.on_commit(lambda order=order: order_paid.send_robust(
                sender=MarketOrder, tenant=tenant, order=order))
    entitlement_recompute(tenant=tenant)
    return len(order_ids)


def commerce_tenants_to_link(*, limit: int = 50) -> list[Tenant]:
    """Authorized suite tenants with an order or member open of their suite and corp that is
    linked to no tenant, at most `limit` (the sweep's work for one run)."""
    unlinked = [
        model.objects.filter(tenant__isnull=True, suite_id=OuterRef("suite_id"),
                             corp_id=OuterRef("corp_id"))
        for model in (MarketOrder, MemberOpen)
    ]
    return list(Tenant.objects.filter(kind=Tenant.Kind.SUITE, status=Tenant.Status.AUTHORIZED)
                .filter(Exists(unlinked[0]) | Exists(unlinked[1]))
                .select_related("suite").order_by("pk")[:limit])
