"""Refunds (37 market_service_close with closeType 3, and 212) and member opens (63).

A refund has no id of its own in 212, and the same refund may come as both 37 and 212: one row
per (suite, order id), each source noted. It voids its order (whenever that arrives: a later
push of the order settles straight to REFUNDED) and the entitlement is recomputed without it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from commerce.models import InAppOrder, MarketOrder, MarketRefund, MemberOpen
from commerce.services.entitlements import entitlement_recompute
from commerce.services.locks import order_lock
from commerce.services.verify import order_corp_conflict
from commerce.services.wire import text
from tenants.models import Suite
from tenants.selectors.tenants import tenant_find

logger = logging.getLogger("commerce")


def market_refund_record(*, suite: Suite, corp_id: str, order_id: str, via: str,
                         refund_id: str = "", refund_fee: int | None = None,
                         close_type: int | None = None) -> MarketRefund | None:
    """Record a refund of `order_id` (`via` "service_close" or "refund_event") and void its
    order; idempotent per (suite, order id). None when the order is another corp's."""
    if order_corp_conflict(suite=suite, order_id=order_id, corp_id=corp_id):
        return None
    with transaction.atomic():
        # An order settling at the same time waits for this refund's commit (locks.py).
        order_lock(suite_id=suite.pk, order_id=order_id)
        refund, _ = MarketRefund.objects.select_for_update().get_or_create(
            suite=suite, order_id=order_id, defaults={"corp_id": corp_id})
        # A refund pushed before its order names the corp the order must have (see orders.py).
        refund.corp_id = corp_id or refund.corp_id
        refund.refund_id = refund.refund_id or refund_id
        refund.refund_fee = refund.refund_fee if refund_fee is None else refund_fee
        refund.close_type = refund.close_type if close_type is None else close_type
        if via == "service_close":
            refund.via_service_close = True
        else:
            refund.via_refund_event = True
        refund.save()
        order = (MarketOrder.objects.select_for_update()
                 .filter(suite=suite, order_id=order_id).first())
        voided = order is not None and order.status != MarketOrder.Status.REFUNDED
        counted = voided and order.status == MarketOrder.Status.ACTIVE
        if voided:
            order.status = MarketOrder.Status.REFUNDED
            order.save(update_fields=["status", "updated_at"])
            InAppOrder.objects.filter(order=order, status__in=[
                InAppOrder.Status.PAID, InAppOrder.Status.CONFIRMED,
                InAppOrder.Status.FINISH_REFUSED,
            ]).update(status=InAppOrder.Status.REFUNDED)
            logger.info("order %r of suite %s refunded", order_id, suite.suite_key)
        if counted and order.tenant_id and not order.in_app:
            entitlement_recompute(tenant=order.tenant)
    return refund


def _parse_local(value: str) -> datetime | None:
    try:
        naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    # Years 1 and 9999 leave PostgreSQL's range once moved to UTC (stored, then unreadable).
    if not 1970 <= naive.year < 9999:
        return None
    return naive.replace(tzinfo=ZoneInfo(settings.COMMERCE_TRYOUT_TZ))


def member_open_record(*, suite: Suite, corp_id: str, data: dict) -> MemberOpen | None:
    """Record a biz_type 63 open once per (corp, opener, fromDate); None when it names no
    opener or start (nothing to key it by)."""
    unionid = text(data, "buyerUnionId", "unionId")
    from_date = text(data, "fromDate", limit=32)
    if not unionid or not from_date or not corp_id:
        return None
    tenant = tenant_find(suite=suite, corp_id=corp_id)
    tryout = text(data, "tryoutType", limit=20)
    end_date = text(data, "endDate", limit=32)
    opened, created = MemberOpen.objects.get_or_create(
        suite=suite, corp_id=corp_id, buyer_unionid=unionid, from_date=from_date,
        defaults={
            "tenant": tenant, "userid": text(data, "userid", "userId"),
            "tryout_type": tryout if tryout in MemberOpen.TryoutType.values else "",
            "item_type": text(data, "itemType", limit=32), "goods_code": text(data, "goodsCode"),
            "end_date": end_date, "starts_at": _parse_local(from_date),
            "ends_at": _parse_local(end_date),
        })
    if created and tenant is not None and opened.tryout_type == MemberOpen.TryoutType.ENTERPRISE:
        entitlement_recompute(tenant=tenant)
    return opened


