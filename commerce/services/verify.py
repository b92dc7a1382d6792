"""Asking DingTalk about an order (GET /v1.0/appMarket/orders/{orderId}, suite token) before it
grants anything, and comparing its answer with what was pushed (PROTOCOL-ISV 3.3)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from commerce.models import MarketOrder, MarketRefund
from dingtalk.errors import DingTalkError, TransportError
from dingtalk.repeat import retryable_error
from tenants.models import Suite
from tenants.services.clients import suite_api_for

logger = logging.getLogger("commerce")


def order_ask_dingtalk(*, suite: Suite, order_id: str) -> tuple[Any | None, str]:
    """(DingTalk's order, "") or (None, why DingTalk refused it). Raises what a retry can fix
    (DingTalk unreachable or throttling, no suite ticket yet): the inbox retries the event."""
    try:
        remote = suite_api_for(suite).market_order(order_id)
    except DingTalkError as exc:
        if isinstance(exc, TransportError) or retryable_error(exc):
            raise
        code = getattr(exc, "code", None) or getattr(exc, "errcode", None) or type(exc).__name__
        logger.warning("DingTalk refused order %r of suite %s: %s", order_id, suite.suite_key,
                       code)
        return None, f"DingTalk refused the order: {code}"[:500]
    return remote, ""


def order_mismatch(*, order: MarketOrder, remote: Any) -> str:
    """Why DingTalk's answer does not back the pushed order ("" when it does)."""
    if remote.biz_order_id and str(remote.biz_order_id) != order.order_id:
        return "DingTalk answered for another order id"
    if order.corp_id and remote.corp_id and remote.corp_id != order.corp_id:
        return f"corp mismatch: pushed {order.corp_id!r}, DingTalk says {remote.corp_id!r}"[:500]
    if order.item_code and remote.item_code and remote.item_code != order.item_code:
        return (f"item mismatch: pushed {order.item_code!r}, DingTalk says "
                f"{remote.item_code!r}")[:500]
    if remote.status not in settings.COMMERCE_PAID_STATUSES:
        if remote.closed and refund_recorded(order):
            return ""  # closed by the refund pushed before the order: it settles REFUNDED
        return f"not paid: DingTalk's order status is {remote.status!r}"
    return ""


def refund_recorded(order: MarketOrder) -> bool:
    """A refund of the order was pushed (by its own corp, or naming none)."""
    return MarketRefund.objects.filter(suite_id=order.suite_id, order_id=order.order_id,
                                       corp_id__in=("", order.corp_id)).exists()


def order_corp_conflict(*, suite: Suite, order_id: str, corp_id: str) -> str:
    """The recorded order's corp when a push about it names another one ("" otherwise): such a
    refund or open must not touch it (orders are keyed by suite and order id alone). An
    order's corp never changes once recorded, so no lock is needed to read it."""
    recorded = (MarketOrder.objects.filter(suite=suite, order_id=order_id)
                .values_list("corp_id", flat=True).first())
    if recorded and corp_id and recorded != corp_id:
        logger.warning("push about order %r of suite %s names corp %r, the order is %r's",
                       order_id, suite.suite_key, corp_id, recorded)
        return recorded
    return ""
