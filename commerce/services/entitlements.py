"""Each tenant's entitlement, recomputed from its orders (derive.py) whenever they change and
whenever a recorded boundary (an order's start or end) passes: the beat sweep's job, since
DingTalk sends no reliable expiry push (PROTOCOL-ISV 3.4 step 5)."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import transaction

from commerce.models import Entitlement, MarketOrder, MemberOpen
from commerce.services.derive import EntitlementFacts, OrderFacts, entitlement_derive
from commerce.signals import entitlement_changed
from core import clock
from tenants.models import Tenant

logger = logging.getLogger("commerce")

# The Entitlement fields EntitlementFacts sets (order_pk is the `order` FK).
_FACT_FIELDS = [f.name for f in dataclasses.fields(EntitlementFacts) if f.name != "order_pk"]


def order_facts(order: MarketOrder) -> OrderFacts:
    return OrderFacts(
        pk=order.pk, goods_code=order.goods_code, item_code=order.item_code,
        item_name=order.item_name, quantity=order.quantity, max_of_people=order.max_of_people,
        min_of_people=order.min_of_people, pay_fee=order.pay_fee, charge_type=order.charge_type,
        auto_change_free_item=order.auto_change_free_item, order_label=order.order_label,
        start=order.service_start_at, stop=order.service_stop_at,
        effective_at=order.effective_at)


def effective_orders(*, tenant: Tenant) -> list[MarketOrder]:
    """The orders that count towards the entitlement: verified, in effect, not in-app."""
    return list(MarketOrder.objects.filter(tenant=tenant, status=MarketOrder.Status.ACTIVE,
                                           in_app=False).order_by("id"))


def entitlement_facts(*, tenant: Tenant, now=None) -> EntitlementFacts:
    """The derivation over the tenant's effective orders at `now` (default: the clock's)."""
    return entitlement_derive([order_facts(o) for o in effective_orders(tenant=tenant)],
                              now=now or clock.now(),
                              free_min_days=settings.COMMERCE_FREE_SPEC_MIN_DAYS)


def _differs(row: Entitlement, facts: EntitlementFacts, enterprise_tryout: bool) -> bool:
    if row.order_id != facts.order_pk or row.enterprise_tryout != enterprise_tryout:
        return True
    # next_change_at is bookkeeping, not something the entitlement says.
    return any(getattr(row, name) != getattr(facts, name) for name in _FACT_FIELDS
               if name != "next_change_at")


def entitlement_recompute(*, tenant: Tenant) -> Entitlement:
    """Derive the tenant's entitlement again and store it; `entitlement_changed` is sent after
    commit when what it says changed (the version goes up once per change)."""
    now = clock.now()
    with transaction.atomic():
        Entitlement.objects.get_or_create(tenant=tenant)
        # The row lock orders concurrent recomputes of one tenant (two pushes at once).
        row = Entitlement.objects.select_for_update().get(tenant=tenant)
        facts = entitlement_facts(tenant=tenant, now=now)
        enterprise_tryout = MemberOpen.objects.filter(
            tenant=tenant, tryout_type=MemberOpen.TryoutType.ENTERPRISE).exists()
        changed = _differs(row, facts, enterprise_tryout)
        for name in _FACT_FIELDS:
            setattr(row, name, getattr(facts, name))
        row.order_id = facts.order_pk
        row.enterprise_tryout = enterprise_tryout
        row.recomputed_at = now
        if changed:
            row.version += 1
            row.changed_at = now
        row.save()
        if changed:
            logger.info("entitlement of tenant %s: %s%s until %s (version %s)", tenant.pk,
                        row.kind, " expired" if row.expired else "", row.active_until,
                        row.version)
            snapshot = Entitlement.objects.select_related("order").get(pk=row.pk)
            transaction.on_commit(lambda: entitlement_changed.send_robust(
                sender=Entitlement, tenant=tenant, entitlement=snapshot))
    return row


def entitlements_due(*, limit: int = 500) -> list[int]:
    """Tenant ids whose entitlement passed a recorded boundary (an order started or ended)."""
    return list(Entitlement.objects.filter(next_change_at__lte=clock.now())
                .order_by("next_change_at").values_list("tenant_id", flat=True)[:limit])


def entitlements_sweep_run(*, limit: int = 500) -> tuple[int, list[int]]:
    """Recompute every entitlement whose next change is due (expiry, trial -> free, a renewal
    starting), each tenant on its own: (how many were recomputed, the ids of tenants whose
    recompute failed). A failure is logged at error level; the tenant stays due, so the next
    run tries it again."""
    done, failed = 0, []
    for tenant in Tenant.objects.filter(pk__in=entitlements_due(limit=limit)).order_by("pk"):
        try:
            entitlement_recompute(tenant=tenant)
        except Exception:  # noqa: BLE001 (one tenant's failure must not stop the others)
            logger.exception("entitlement of tenant %s not recomputed: retried next run",
                             tenant.pk)
            failed.append(tenant.pk)
        else:
            done += 1
    return done, failed


def entitlements_sweep(*, limit: int = 500) -> int:
    """entitlements_sweep_run's count of recomputed entitlements."""
    return entitlements_sweep_run(limit=limit)[0]
