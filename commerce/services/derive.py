"""The entitlement as a pure function of a tenant's effective orders (no database, no clock of
its own): what is in effect at `now`, until when, and when that next changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

KIND_NONE, KIND_TRIAL, KIND_FREE, KIND_PAID = "none", "trial", "free", "paid"


@dataclass(frozen=True)
class OrderFacts:
    """What the derivation needs of one ACTIVE, non-in-app order."""

    pk: int
    goods_code: str = ""
    item_code: str = ""
    item_name: str = ""
    quantity: int | None = None
    max_of_people: int | None = None
    min_of_people: int | None = None
    pay_fee: int | None = None
    charge_type: str = ""
    auto_change_free_item: bool = False
    order_label: int | None = None
    start: datetime | None = None
    stop: datetime | None = None
    effective_at: datetime | None = None


@dataclass(frozen=True)
class EntitlementFacts:
    kind: str = KIND_NONE
    expired: bool = False
    goods_code: str = ""
    item_code: str = ""
    item_name: str = ""
    quantity: int | None = None
    max_of_people: int | None = None
    min_of_people: int | None = None
    order_pk: int | None = None
    active_from: datetime | None = None
    current_until: datetime | None = None
    active_until: datetime | None = None
    next_change_at: datetime | None = None


def order_kind(order: OrderFacts, *, free_min_days: int) -> str:
    """Trial, free spec or paid. HTTP market_buy says FREE / TRYOUT; SyncHTTP rows do not, so a
    0-fen order is the free spec when DingTalk switched to it (autoChangeFreeItem) or its period
    is long (the free spec runs "100 years"), and a trial otherwise. A gift order (orderLabel 1)
    rides on a paid one."""
    if order.charge_type == "TRYOUT":
        return KIND_TRIAL
    if order.charge_type == "FREE":
        return KIND_FREE
    if order.pay_fee is None or order.pay_fee > 0 or order.order_label == 1:
        return KIND_PAID
    if order.auto_change_free_item:
        return KIND_FREE
    if order.start and order.stop and order.stop - order.start >= timedelta(days=free_min_days):
        return KIND_FREE
    return KIND_TRIAL


def _in_effect(order: OrderFacts, now: datetime) -> bool:
    return ((order.start is None or order.start <= now)
            and (order.stop is None or now < order.stop))


def _precedence(order: OrderFacts) -> tuple:
    # The latest to take effect gives the edition (an upgrade over the order it upgrades).
    when = order.effective_at or order.start
    return (when is not None, when.timestamp() if when else 0.0, order.pk)


def entitlement_derive(orders: list[OrderFacts], *, now: datetime,
                       free_min_days: int = 3650) -> EntitlementFacts:
    """The entitlement at `now`: the edition of the latest order in effect, `active_until` the
    latest end over all of them, expired when orders exist and none is in effect."""
    if not orders:
        return EntitlementFacts()
    current = [order for order in orders if _in_effect(order, now)]
    stops = [order.stop for order in orders if order.stop is not None]
    open_ended = any(order.stop is None for order in orders)
    active_until = None if open_ended or not stops else max(stops)
    boundaries = [when for order in orders for when in (order.start, order.stop)
                  if when is not None and when > now]
    next_change = min(boundaries) if boundaries else None
    if current:
        chosen, expired = max(current, key=_precedence), False
    else:
        ended = [order for order in orders if order.stop is not None and order.stop <= now]
        chosen = (max(ended, key=lambda o: (o.stop, _precedence(o))) if ended
                  else min(orders, key=lambda o: (o.start, o.pk)))
        expired = True
    return EntitlementFacts(
        kind=order_kind(chosen, free_min_days=free_min_days), expired=expired,
        goods_code=chosen.goods_code, item_code=chosen.item_code, item_name=chosen.item_name,
        quantity=chosen.quantity, max_of_people=chosen.max_of_people,
        min_of_people=chosen.min_of_people, order_pk=chosen.pk, active_from=chosen.start,
        current_until=chosen.stop, active_until=active_until, next_change_at=next_change)
