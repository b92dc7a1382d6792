"""The app market's order as the new API answers it (GET /v1.0/appMarket/orders/{orderId})."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dingtalk.errors import BadResponse

ORDER_PATH = "v1.0/appMarket/orders/{orderId}"
# PROTOCOL-ISV 3.3: 0 closed (refunded), 3 paid, 4 created; the doc's example shows 1.
STATUS_CLOSED, STATUS_PAID, STATUS_CREATED = 0, 3, 4


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class MarketOrder:
    """One market order: fees in fen, times in ms since the epoch (None when DingTalk left a
    field out or sent something that is not a number)."""

    biz_order_id: str
    corp_id: str
    goods_code: str
    goods_name: str
    item_code: str
    item_name: str
    total_actual_pay_fee: int | None
    status: int | None
    quantity: int | None
    paid_ms: int | None
    create_ms: int | None
    start_ms: int | None
    end_ms: int | None
    in_app: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def paid(self) -> bool:
        return self.status == STATUS_PAID

    @property
    def closed(self) -> bool:
        return self.status == STATUS_CLOSED

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> MarketOrder:
        order_id = body.get("bizOrderId")
        if order_id is None or order_id == "":
            raise BadResponse(f"{ORDER_PATH}: successful answer has no bizOrderId",
                              status_code=200, path=ORDER_PATH)
        return cls(
            biz_order_id=str(order_id), corp_id=_text(body.get("corpId")),
            goods_code=_text(body.get("goodsCode")), goods_name=_text(body.get("goodsName")),
            item_code=_text(body.get("itemCode")), item_name=_text(body.get("itemName")),
            total_actual_pay_fee=_int(body.get("totalActualPayFee")),
            status=_int(body.get("status")), quantity=_int(body.get("quantity")),
            paid_ms=_int(body.get("paidTimestamp")), create_ms=_int(body.get("createTimestamp")),
            start_ms=_int(body.get("startTimestamp")), end_ms=_int(body.get("endTimestamp")),
            in_app=body.get("inAppOrder") is True, raw=dict(body))
