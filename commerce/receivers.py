"""The inbox's market events, handed to the ledger (registered in apps.py through
tenants.event_receivers), and the tenant lifecycle signal that links earlier orders.

Each receiver runs inside the event's processing (a Celery worker, no transaction open) and
returns (status, note); what it raises is recorded by the inbox, and retried when a retry can
fix it (DingTalk unreachable while verifying). Every one is idempotent.
"""

from __future__ import annotations

import logging

from commerce.services.orders import market_order_push, market_service_open
from commerce.services.refunds import market_refund_record, member_open_record
from commerce.services.tenants import commerce_tenant_link
from commerce.services.wire import fee, integer, push_corp_id, text
from tenants.models import CallbackEvent

logger = logging.getLogger("commerce")

DONE = CallbackEvent.Status.DONE
IGNORED = CallbackEvent.Status.IGNORED
_USABLE_ID = "an order id (of at most 64 characters)"
_ANOTHER_CORP = "order {} belongs to another corp than the push names: left as it is"


def _push(event, parsed) -> dict:
    return {"kind": parsed.kind, "event": event.pk}


def _where(event, parsed) -> tuple[object, str, str] | None:
    """(suite, corp id, order id), or None when the push cannot name an order of a suite (an
    id past the column's 64 characters too: cut, it could name another order)."""
    order_id = getattr(parsed, "order_id", None) or text(parsed.data, "orderId", limit=65)
    if event.suite is None or not order_id or len(order_id) > 64:
        return None
    return event.suite, push_corp_id(parsed.data, parsed.corp_id or event.corp_id), order_id


def on_market_order(*, event, parsed):
    """biz_type 17 / HTTP market_buy."""
    where = _where(event, parsed)
    if where is None:
        return IGNORED, f"market order without a suite or {_USABLE_ID}"
    suite, corp_id, order_id = where
    order = market_order_push(suite=suite, corp_id=corp_id, order_id=order_id,
                              data=parsed.data, push=_push(event, parsed))
    if order.status == order.Status.VERIFY_FAILED:
        return IGNORED, f"order {order_id} not granted: {order.verify_error}"
    return DONE, f"order {order_id} {order.status}"


def on_market_service(*, event, parsed):
    """biz_type 37: open (a renew-change takes effect) or close (a refund)."""
    where = _where(event, parsed)
    if where is None:
        return IGNORED, f"service event without a suite or {_USABLE_ID}"
    suite, corp_id, order_id = where
    if parsed.action == "open":
        open_type = integer(parsed.data, "openType")
        if open_type not in (None, 3):  # 3 (a renew-change takes effect) is the only one
            return IGNORED, f"service open of unknown openType {open_type}"
        order, ignored = market_service_open(suite=suite, corp_id=corp_id, order_id=order_id,
                                             data=parsed.data, push=_push(event, parsed))
        if order is None:
            return IGNORED, ignored
        return DONE, f"order {order_id} opened: {order.status}"
    if parsed.action != "close":
        return IGNORED, f"service event of unknown action {parsed.action!r}"
    close_type = integer(parsed.data, "closeType")
    if close_type not in (None, 3):  # 3 (refund) is the only close DingTalk documents
        return IGNORED, f"service close of unknown closeType {close_type}"
    refund = market_refund_record(suite=suite, corp_id=corp_id, order_id=order_id,
                                  via="service_close", refund_id=text(parsed.data, "refundId"),
                                  close_type=close_type)
    if refund is None:
        return IGNORED, _ANOTHER_CORP.format(order_id)
    return DONE, f"order {order_id} refunded"


def on_market_refund(*, event, parsed):
    """biz_type 212 (no refund id: keyed by the order id)."""
    where = _where(event, parsed)
    if where is None:
        return IGNORED, f"refund without a suite or {_USABLE_ID}"
    suite, corp_id, order_id = where
    refund = market_refund_record(suite=suite, corp_id=corp_id, order_id=order_id,
                                  via="refund_event", refund_fee=fee(parsed.data, "refundFee"))
    if refund is None:
        return IGNORED, _ANOTHER_CORP.format(order_id)
    return DONE, f"order {order_id} refunded"


def on_market_tryout(*, event, parsed):
    """biz_type 63: a member (or the corp) opened the app."""
    if event.suite is None:
        return IGNORED, "member open without a suite"
    corp_id = push_corp_id(parsed.data, parsed.corp_id or event.corp_id)
    opened = member_open_record(suite=event.suite, corp_id=corp_id, data=parsed.data)
    if opened is None:
        return IGNORED, "member open without an opener, a corp or a fromDate"
    return DONE, ""


EVENT_RECEIVERS = {
    "market_order": on_market_order,
    "market_service": on_market_service,
    "market_refund": on_market_refund,
    "market_tryout": on_market_tryout,
}


def on_tenant_authorized(sender, tenant, **kwargs) -> None:
    """tenants.signals.tenant_authorized: orders pushed before the authorization join it."""
    try:
        commerce_tenant_link(tenant=tenant)
    except Exception:
        logger.exception("orders of tenant %s not linked", getattr(tenant, "pk", None))
