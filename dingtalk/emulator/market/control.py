"""Control routes of the market: orders, refunds, renew-change opens, free switches, app opens.

Each change pushes what DingTalk would (PROTOCOL-ISV 3.2) in the suite's push style, unless
the body says `"push": false` (a lost push, for tests of reconciliation).
"""

from __future__ import annotations

import secrets
from typing import Any

from ..context import ControlContext, ControlError
from ..pushes import PushEvent
from ..registry import control
from .book import (
    CHARGE_TYPES,
    CLOSED,
    FREE_PERIOD_MS,
    ITEM_TYPES,
    ORDER_TYPES,
    RENEW_CHANGES,
    TRYOUT_TYPES,
    Order,
    Tryout,
    market_for,
)
from .config import market_config
from .fields import date_text, order_fields, service_fields

_DAY_MS = 86_400_000
_ORDERS = "/_emulator/suites/<suite_key>/market/orders"


def _arg(ctx: ControlContext, name: str, kind: type, default: Any = None) -> Any:
    value = ctx.arg(name, default)
    if value is None or (isinstance(value, kind) and (kind is bool or
                                                       not isinstance(value, bool))):
        return value
    raise ControlError(400, f"{name} must be a {kind.__name__}")


def _choice(ctx: ControlContext, name: str, allowed: tuple, default: Any = None) -> Any:
    value = ctx.arg(name, default)
    if value not in allowed:
        raise ControlError(400, f"{name} must be one of {', '.join(map(str, allowed))}")
    return value


def _suite(ctx: ControlContext, suite_key: str):
    suite = ctx.emulator.state.suites.get(suite_key)
    if suite is None:
        raise ControlError(404, f"no suite {suite_key}")
    return suite


def _order(ctx: ControlContext, suite_key: str, order_id: str) -> Order:
    order = market_for(ctx.emulator).orders.get(order_id)
    if order is None or order.suite_key != suite_key:
        raise ControlError(404, f"no order {order_id} of suite {suite_key}")
    return order


def _buyer(ctx: ControlContext, corp, userid: str | None) -> tuple[str, str]:
    """(userid, unionid) of the buyer: the named user, else the suite's authorising admin."""
    if userid is None:
        admins = [u.userid for u in corp.users.values() if u.is_admin]
        userid = admins[0] if admins else next(iter(corp.users), "")
    user = corp.users.get(userid)
    if userid and user is None:
        raise ControlError(404, f"no user {userid!r} in {corp.corp_id}")
    return userid, user.unionid if user is not None else ""


def _push(ctx: ControlContext, suite, corp_id: str, biz_type: int, action: str,
          biz_id: str, fields: dict, table: str = "high") -> dict | None:
    """One market push, or None when `push` is false or the style has no such push."""
    config = market_config(ctx.emulator.config.market)
    if ctx.arg("push", True) is False:
        return None
    if biz_type != 17 and suite.push_style != "sync_http" and not config.http_market_events:
        return None
    record = ctx.emulator.pusher.notify(PushEvent(
        kind="market", suite_key=suite.suite_key, corp_id=corp_id,
        data={"biz_type": biz_type, "action": action, "biz_id": biz_id, "fields": fields,
              "table": table}))
    return record.view() if record is not None else None


def _new_order(ctx: ControlContext, suite, corp, **given: Any) -> Order:
    """An order from the body's fields (defaults as a paid one-year order)."""
    now = ctx.emulator.clock.now_ms()
    charge = given.get("charge_type", _choice(ctx, "charge_type", CHARGE_TYPES))
    in_app = bool(_arg(ctx, "in_app", bool, False))
    default_days = {"TRYOUT": 15, "FREE": None}.get(charge, 365)
    start = _arg(ctx, "service_start_ms", int, now) if "start_ms" not in given \
        else given["start_ms"]
    stop = _arg(ctx, "service_stop_ms", int) if "stop_ms" not in given else given["stop_ms"]
    if stop is None:
        stop = start + (FREE_PERIOD_MS if default_days is None else default_days * _DAY_MS)
    if stop < start:
        raise ControlError(400, "service_stop_ms must not be before service_start_ms")
    buyer = given.get("buyer") or _buyer(ctx, corp, _arg(ctx, "buyer_userid", str))
    pay_fee = _arg(ctx, "pay_fee", int, 0 if charge else 9900)
    item_code = given.get("item_code") or _arg(ctx, "item_code", str)
    if not item_code:
        raise ControlError(400, "missing argument: item_code")
    goods = f"FW_GOODS-{suite.suite_id}" + ("-inapp" if in_app else "")
    book = market_for(ctx.emulator)
    order = Order(
        order_id=book.new_order_id(), suite_key=suite.suite_key, suite_id=suite.suite_id,
        corp_id=corp.corp_id, order_type=given.get("order_type") or _choice(
            ctx, "order_type", ORDER_TYPES, "BUY"),
        goods_code=_arg(ctx, "goods_code", str, goods),
        goods_name=_arg(ctx, "goods_name", str, suite.name),
        item_code=item_code,
        item_name=given.get("item_name") or _arg(ctx, "item_name", str, item_code),
        sub_quantity=_arg(ctx, "sub_quantity", int, 1),
        max_of_people=given.get("max_of_people") or _arg(ctx, "max_of_people", int, 100),
        min_of_people=_arg(ctx, "min_of_people", int, 1),
        pay_fee=pay_fee, nominal_pay_fee=_arg(ctx, "nominal_pay_fee", int, pay_fee),
        created_ms=now, paid_ms=now, start_ms=start, stop_ms=stop, buyer_userid=buyer[0],
        buyer_unionid=buyer[1], charge_type=charge,
        auto_change_free_item=given.get("auto_change_free_item",
                                        bool(_arg(ctx, "auto_change_free_item", bool, False))),
        in_app=in_app)
    if order.sub_quantity < 0 or order.pay_fee < 0:
        raise ControlError(400, "sub_quantity and pay_fee must not be negative")
    book.orders[order.order_id] = order
    return order


def _order_pushed(ctx: ControlContext, suite, order: Order) -> dict:
    config = market_config(ctx.emulator.config.market)
    fields = order_fields(order, http=suite.push_style != "sync_http")
    push = _push(ctx, suite, order.corp_id, 17, "market_order", order.order_id, fields,
                 config.order_table)
    return {**order.view(), "pushes": [push] if push else []}


@control(_ORDERS, methods=("GET", "POST"))
def orders(ctx: ControlContext, suite_key: str):
    """GET: the suite's orders (query corp_id filters). POST {corp_id, item_code, order_type?,
    ...}: a paid order, pushed as biz_type 17 or market_buy -> the order and its push."""
    state = ctx.emulator.state
    with state.lock:
        suite = _suite(ctx, suite_key)
        if ctx.request.method == "GET":
            corp_id = ctx.arg("corp_id")
            return [o.view() for o in market_for(ctx.emulator).suite_orders(suite_key)
                    if corp_id in (None, o.corp_id)]
        corp_id = _arg(ctx, "corp_id", str)
        corp = state.corps.get(corp_id or "")
        if corp is None:
            raise ControlError(404, f"no corp {corp_id}")
        order = _new_order(ctx, suite, corp)
    return _order_pushed(ctx, suite, order)


@control(_ORDERS + "/<order_id>", methods=("GET",))
def order_get(ctx: ControlContext, suite_key: str, order_id: str) -> dict:
    with ctx.emulator.state.lock:
        return _order(ctx, suite_key, order_id).view()


@control(_ORDERS + "/<order_id>/refund")
def order_refund(ctx: ControlContext, suite_key: str, order_id: str) -> dict:
    """Body {refund_fee?, via?: "37" | "212" | "both", push?}: the order closes (status 0)
    and the refund is pushed as 37 market_service_close (closeType 3) and/or 212."""
    config = market_config(ctx.emulator.config.market)
    via = _choice(ctx, "via", ("37", "212", "both"), config.refund_pushes)
    with ctx.emulator.state.lock:
        suite, order = _suite(ctx, suite_key), _order(ctx, suite_key, order_id)
        if order.status == CLOSED:
            raise ControlError(409, f"order {order_id} is already closed")
        order.refund_fee = _arg(ctx, "refund_fee", int, order.pay_fee)
        order.refund_id = market_for(ctx.emulator).new_refund_id()
        order.status = CLOSED
    pushes = []
    if via in ("37", "both"):
        fields = {**service_fields(order), "closeType": 3, "refundId": order.refund_id}
        pushes.append(_push(ctx, suite, order.corp_id, 37, "market_service_close",
                            order.order_id, fields))
    if via in ("212", "both"):
        fields = {"corpId": order.corp_id, "orderId": int(order.order_id),
                  "refundFee": order.refund_fee, "instanceEndTime": order.stop_ms}
        # 212's biz_id means nothing (PROTOCOL-ISV 3.2): a random one, never the order id.
        pushes.append(_push(ctx, suite, order.corp_id, 212, "market_order_refund_event",
                            secrets.token_hex(8), fields, "medium"))
    return {**order.view(), "pushes": [p for p in pushes if p]}


@control(_ORDERS + "/<order_id>/open")
def order_open(ctx: ControlContext, suite_key: str, order_id: str) -> dict:
    """A renew-change order (RENEW_UPGRADE / RENEW_DEGRADE) takes effect: 37
    market_service_open with openType 3."""
    with ctx.emulator.state.lock:
        suite, order = _suite(ctx, suite_key), _order(ctx, suite_key, order_id)
        if order.order_type not in RENEW_CHANGES:
            raise ControlError(409, f"order {order_id} is {order.order_type}, not a renew "
                                    "change: only those open later (PROTOCOL-ISV 3.2)")
        if order.status == CLOSED or order.opened:
            raise ControlError(409, f"order {order_id} is closed or already open")
        order.opened = True
    fields = {**service_fields(order), "serviceStartTime": order.start_ms,
              "serviceStopTime": order.stop_ms, "openType": 3}
    push = _push(ctx, suite, order.corp_id, 37, "market_service_open", order.order_id, fields)
    return {**order.view(), "pushes": [push] if push else []}


@control(_ORDERS + "/<order_id>/free_switch")
def order_free_switch(ctx: ControlContext, suite_key: str, order_id: str) -> dict:
    """Body {item_code, item_name?, max_of_people?, push?}: the trial ended and DingTalk
    places a free order (autoChangeFreeItem true) in the previous order's buyer's name."""
    with ctx.emulator.state.lock:
        suite, previous = _suite(ctx, suite_key), _order(ctx, suite_key, order_id)
        corp = ctx.emulator.state.corps[previous.corp_id]
        start = max(previous.stop_ms, ctx.emulator.clock.now_ms())
        order = _new_order(ctx, suite, corp, charge_type="FREE", order_type="BUY",
                           start_ms=start, stop_ms=start + FREE_PERIOD_MS,
                           buyer=(previous.buyer_userid, previous.buyer_unionid),
                           auto_change_free_item=True)
        order.pay_fee = order.nominal_pay_fee = 0
    return _order_pushed(ctx, suite, order)


@control("/_emulator/suites/<suite_key>/market/tryout")
def tryout(ctx: ControlContext, suite_key: str) -> dict:
    """Body {corp_id, userid, tryout_type, item_type?, days?, item_code?, push?}: someone
    opens the app (biz_type 63). With item_code, a TRYOUT order is made and pushed (17) too;
    a member open that shares an earlier trial makes none (PROTOCOL-ISV 3.1)."""
    state = ctx.emulator.state
    tryout_type = _choice(ctx, "tryout_type", TRYOUT_TYPES, "personal_tryout")
    item_type = _choice(ctx, "item_type", ITEM_TYPES)
    days = _arg(ctx, "days", int, 15)
    with state.lock:
        suite = _suite(ctx, suite_key)
        corp = state.corps.get(_arg(ctx, "corp_id", str) or "")
        if corp is None:
            raise ControlError(404, f"no corp {ctx.arg('corp_id')}")
        userid, unionid = _buyer(ctx, corp, _arg(ctx, "userid", str))
        now = ctx.emulator.clock.now_ms()
        record = Tryout(corp_id=corp.corp_id, suite_key=suite_key, userid=userid,
                        unionid=unionid, tryout_type=tryout_type, item_type=item_type,
                        from_ms=now, end_ms=now + days * _DAY_MS)
        market_for(ctx.emulator).tryouts.append(record)
        auth = state.auths.get((suite_key, corp.corp_id))
        order = None
        if ctx.arg("item_code") is not None:
            order = _new_order(ctx, suite, corp, charge_type="TRYOUT",
                               stop_ms=record.end_ms, start_ms=now, buyer=(userid, unionid))
    fields = {"buyerUnionId": unionid, "suiteId": suite.suite_id, "suiteKey": suite_key,
              "corpId": corp.corp_id, "appId": auth.app_id if auth else suite.app_id,
              "goodsCode": f"FW_GOODS-{suite.suite_id}", "userid": userid,
              "tryoutType": tryout_type, "fromDate": date_text(record.from_ms),
              "endDate": date_text(record.end_ms)}
    if item_type is not None:
        fields["itemType"] = item_type
    push = _push(ctx, suite, corp.corp_id, 63, "goods_tryout", unionid, fields)
    out = {"corp_id": corp.corp_id, "userid": userid, "unionid": unionid,
           "tryout_type": tryout_type, "from_ms": record.from_ms, "end_ms": record.end_ms,
           "pushes": [push] if push else []}
    if order is not None:
        out["order"] = _order_pushed(ctx, suite, order)
    return out
