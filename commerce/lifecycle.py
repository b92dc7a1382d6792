"""commerce's part of a tenant's data (tenants/lifecycle.py).

Export: every commerce row of the tenant (orders, refunds, member opens, entitlement, in-app
orders and consumptions), secret-looking keys masked.

Delete keeps what accounting needs and nothing else (PROTOCOL-ISV 5.3: "orders beyond what
accounting needs" go): each order stays with its id, corp, type, item, quantities, fees, paid
and service dates and status, as do refunds (they carry no personal data) and in-app orders
and consumptions (request id, quantity, status); the buyer's userid and unionid, the pushed
payloads and the consuming users' ids are blanked. The entitlement (derivable again from the
kept orders), the member opens (who opened the app, when) and the reconciliation's cursor are
deleted.
"""

from __future__ import annotations

from typing import Any

from commerce.models import (
    Entitlement,
    InAppConsumption,
    InAppOrder,
    InAppReconcileCursor,
    MarketOrder,
    MarketRefund,
    MemberOpen,
)
from tenants.lifecycle import TenantDataPart, delete_querysets, export_rows, register


def _refunds(tenant):
    return MarketRefund.objects.filter(suite_id=tenant.suite_id, corp_id=tenant.corp_id)


def export(tenant) -> dict[str, Any]:
    orders = MarketOrder.objects.filter(tenant=tenant)
    in_app = InAppOrder.objects.filter(order__in=orders)
    return {
        "commerce.MarketOrder": export_rows(orders),
        "commerce.MarketRefund": export_rows(_refunds(tenant)),
        "commerce.MemberOpen": export_rows(MemberOpen.objects.filter(tenant=tenant)),
        "commerce.Entitlement": export_rows(Entitlement.objects.filter(tenant=tenant)),
        "commerce.InAppOrder": export_rows(in_app),
        "commerce.InAppConsumption": export_rows(
            InAppConsumption.objects.filter(in_app_order__in=in_app)),
        "commerce.InAppReconcileCursor": export_rows(
            InAppReconcileCursor.objects.filter(tenant=tenant)),
    }


def delete(tenant) -> dict[str, int]:
    orders = MarketOrder.objects.filter(tenant=tenant)
    counts = delete_querysets(Entitlement.objects.filter(tenant=tenant),
                              MemberOpen.objects.filter(tenant=tenant),
                              InAppReconcileCursor.objects.filter(tenant=tenant))
    counts["commerce.MarketOrder (personal data blanked)"] = orders.update(
        buyer_userid="", buyer_unionid="", data={}, pushes=[])
    counts["commerce.InAppConsumption (userid blanked)"] = InAppConsumption.objects.filter(
        in_app_order__order__in=orders).update(userid="")
    return counts


# Before tenants' own part (1000): the entitlement and member opens point at the tenant row.
register(TenantDataPart(name="commerce", export=export, delete=delete, order=100))
