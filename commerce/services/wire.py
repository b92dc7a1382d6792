"""Reading DingTalk's market payloads into ledger fields (PROTOCOL-ISV 3.2): both spellings of
the fields whose names differ by page, times in ms, money in fen. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce.models import MarketOrder
from core.storable import storable_text
from dingtalk.events.values import as_int

OrderType = MarketOrder.OrderType
ChargeType = MarketOrder.ChargeType


def text(data: dict, *names: str, limit: int = 64) -> str:
    """The first of `names` present as text or a number, storable, cut to `limit`
    characters."""
    for name in names:
        value = data.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str | int):
            return storable_text(str(value), limit)
    return ""


def integer(data: dict, *names: str) -> int | None:
    """The first of `names` that reads as a whole number that fits a bigint ("1500" and 1500
    alike; ASCII digits only: "²" is a digit to str.isdigit() but not to int())."""
    for name in names:
        value = as_int(data.get(name))
        if value is not None:
            return value
    return None


def count(data: dict, *names: str, limit: int = 2**31) -> int | None:
    """A non-negative whole number below `limit` (seats, quantities: an integer column; a
    smallint's is 2**15), else None."""
    value = integer(data, *names)
    return value if value is not None and 0 <= value < limit else None


def fee(data: dict, name: str) -> int | None:
    """Money in fen: a non-negative bigint, else None (a negative fee says nothing)."""
    return count(data, name, limit=2**63)


def at_ms(value: Any) -> datetime | None:
    """A DingTalk time in ms (int or digits) as an aware UTC datetime."""
    ms = integer({"v": value}, "v")
    if ms is None or ms <= 0 or ms > 253_402_300_799_000:  # beyond 9999-12-31
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def flag(data: dict, name: str) -> bool:
    value = data.get(name)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def order_fields(data: dict) -> dict[str, Any]:
    """MarketOrder fields from a biz_type 17 row's data or an HTTP market_buy payload."""
    order_type = text(data, "orderType", limit=16).upper()
    charge_type = text(data, "orderChargeType", limit=8).upper()
    return {
        "order_type": order_type if order_type in OrderType.values else "",
        "charge_type": charge_type if charge_type in ChargeType.values else "",
        "goods_code": text(data, "goodsCode"),
        "goods_name": text(data, "goodsName", limit=200),
        "item_code": text(data, "itemCode"),
        "item_name": text(data, "itemName", limit=200),
        "sale_model_type": text(data, "saleModelType", limit=32),
        "quantity": count(data, "subQuantity"),
        "max_of_people": count(data, "maxOfPeople"),
        "min_of_people": count(data, "minOfPeople"),
        "pay_fee": fee(data, "payFee"),
        "nominal_pay_fee": fee(data, "nominalPayFee"),
        "discount_fee": fee(data, "discountFee"),
        "paid_at": at_ms(data.get("paidtime")),
        "service_start_at": at_ms(data.get("serviceStartTime")),
        "service_stop_at": at_ms(data.get("serviceStopTime")),
        "auto_change_free_item": flag(data, "autoChangeFreeItem"),
        # In-app orders carry the app's id and the main goods (two spellings, PROTOCOL-ISV 3.2).
        "in_app": bool(text(data, "mainGoodsCode", "mainArticleCode")),
        "main_goods_code": text(data, "mainGoodsCode", "mainArticleCode"),
        "order_create_source": text(data, "orderCreateSource", "orderCreatSource", limit=32),
        "order_label": count(data, "orderLabel", limit=2**15),
        "main_corp_id": text(data, "mainCorpId"),
        "out_trade_no": text(data, "outTradeNo"),
        "buyer_userid": text(data, "buyUserId"),
        "buyer_unionid": text(data, "unionId"),
    }


def push_corp_id(data: dict, fallback: str | None) -> str:
    """The buyer corp: corpId (buyCorpId is the legacy HTTP push's deprecated spelling)."""
    return text(data, "corpId") or (fallback or "") or text(data, "buyCorpId")


def verified_fields(remote: Any) -> dict[str, Any]:
    """MarketOrder fields from DingTalk's own answer (dingtalk.api.market.MarketOrder)."""
    fields = {
        "corp_id": (remote.corp_id or "")[:64],
        "goods_code": (remote.goods_code or "")[:64],
        "goods_name": (remote.goods_name or "")[:200],
        "item_code": (remote.item_code or "")[:64],
        "item_name": (remote.item_name or "")[:200],
        "pay_fee": fee({"v": remote.total_actual_pay_fee}, "v"),
        "dingtalk_status": count({"v": remote.status}, "v", limit=2**15),
        "paid_at": at_ms(remote.paid_ms),
        "service_start_at": at_ms(remote.start_ms),
        "service_stop_at": at_ms(remote.end_ms),
        "in_app": bool(remote.in_app),
    }
    quantity = count({"v": remote.quantity}, "v")
    if quantity is not None:
        fields["quantity"] = quantity
    # What DingTalk left empty keeps what the push said.
    return {name: value for name, value in fields.items() if value not in (None, "")
            or name in ("in_app",)}
