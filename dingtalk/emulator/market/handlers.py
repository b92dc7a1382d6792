"""The market's API: the new API's order read (suite token) and the in-app purchase endpoints
(corp token, topapi/appstore/internal/*), answering from the control-made orders."""

from __future__ import annotations

from urllib.parse import quote

from ..codes import ApiFail
from ..context import CallContext
from ..newapi import NewApiContext, NewApiFail
from ..registry import api, new_api
from .book import PAID, Consumption, Order, market_for
from .config import market_config
from .fields import internal_order, order_answer

_BASE = "/topapi/appstore/internal"
# PROTOCOL-ISV 3.3 names the in-app endpoints' inputs, not their error codes: a missing or
# foreign order and an order in the wrong state answer topapi's generic 400002 with a message.
_NO_ORDER = "订单不存在"


@new_api("/v1.0/appMarket/orders/<orderId>", auth="suite")
def market_order(ctx: NewApiContext, orderId: str) -> dict:  # noqa: N803 (the doc's name)
    with ctx.state.lock:
        order = market_for(ctx.emulator).orders.get(orderId)
        if order is None:
            raise NewApiFail(400, "order.not.exist", "订单不存在")
        if ctx.caller is None or order.suite_key != ctx.caller.suite_key:
            raise NewApiFail(400, "illegal.order.principle", "非法的订单主体")
        return order_answer(order)


def _isv(ctx: CallContext) -> tuple[str, str]:
    """(suite_key, corp_id) of a suite's corp token; in-app purchase is for ISV apps only."""
    caller = ctx.caller
    if caller is None or caller.kind != "suite_corp":
        raise ApiFail(60011)
    return caller.suite_key or "", caller.corp_id or ""


def _in_app_order(ctx: CallContext) -> Order:
    suite_key, corp_id = _isv(ctx)
    order_id = ctx.require_str("biz_order_id")
    order = market_for(ctx.emulator).orders.get(order_id)
    if order is None or not order.in_app or order.suite_key != suite_key \
            or order.corp_id != corp_id:
        raise ctx.bad_param(_NO_ORDER)
    return order


@api(f"{_BASE}/order/get", method="POST")
def order_get(ctx: CallContext) -> dict:
    with ctx.state.lock:
        return {"result": internal_order(_in_app_order(ctx))}


@api(f"{_BASE}/order/finish", method="POST")
def order_finish(ctx: CallContext) -> dict:
    """Finishing a finished order answers ok again (a state, not an action)."""
    with ctx.state.lock:
        order = _in_app_order(ctx)
        if order.status != PAID:
            raise ctx.bad_param("订单状态不正确")
        order.finished = True
        return {"result": True}


@api(f"{_BASE}/order/consume", method="POST")
def order_consume(ctx: CallContext) -> dict:
    """One consumption per request_id: a repeat answers as the first did and records nothing."""
    with ctx.state.lock:
        order = _in_app_order(ctx)
        request_id = ctx.require_str("request_id")
        quantity = ctx.int_arg("quantity")
        userid = ctx.require_str("userid")
        done = order.consumptions.get(request_id)
        if done is None:
            if order.status != PAID:
                raise ctx.bad_param("订单状态不正确")
            if quantity < 1:
                raise ctx.bad_param("不合法的参数 quantity")
            if userid not in ctx.corp.users:
                raise ApiFail(33012)
            if order.consumed + quantity > order.sub_quantity:
                raise ctx.bad_param("可消费数量不足")
            done = order.consumptions[request_id] = Consumption(
                request_id=request_id, quantity=quantity, userid=userid,
                at_ms=ctx.clock.now_ms())
        return {"result": {"request_id": done.request_id, "quantity": done.quantity,
                           "remaining": order.sub_quantity - order.consumed}}


@api(f"{_BASE}/unfinishedorder/list", method="POST")
def unfinished_list(ctx: CallContext) -> dict:
    suite_key, corp_id = _isv(ctx)
    page = ctx.int_arg("page", default=1)
    page_size = ctx.int_arg("page_size", default=100)
    if page < 1 or not 1 <= page_size <= market_config(ctx.config.market).page_size_max:
        raise ctx.bad_param("不合法的分页参数")
    item_code = ctx.get("item_code")
    with ctx.state.lock:
        orders = market_for(ctx.emulator).unfinished(
            suite_key, corp_id, str(item_code) if item_code else None)
        items = orders[(page - 1) * page_size:page * page_size]
        return {"result": {"total": len(orders), "items": [internal_order(o) for o in items]}}


@api(f"{_BASE}/skupage/get", method="POST")
def skupage_get(ctx: CallContext) -> dict:
    _, corp_id = _isv(ctx)
    goods_code = ctx.require_str("goods_code")
    url = (f"https://h5.dingtalk.com/appcenter/skuPage.html?goodsCode={quote(goods_code)}"
           f"&corpId={quote(corp_id)}")
    for name, key in (("callback_page", "callbackPage"), ("extend_param", "extendParam")):
        value = ctx.get(name)
        if value:
            url += f"&{key}={quote(str(value), safe='%')}"
    return {"result": url}
