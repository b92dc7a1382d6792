"""The wire fields of market pushes and answers (PROTOCOL-ISV 3.2, 3.3), from the book's records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from .book import Order

# 63's fromDate / endDate are text; their zone is UNCERTAIN, probably Asia/Shanghai (UTC+8).
_SHANGHAI = timezone(timedelta(hours=8))


def date_text(ms: int) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Asia/Shanghai."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(_SHANGHAI).strftime(
        "%Y-%m-%d %H:%M:%S")


def order_fields(order: Order, *, http: bool) -> dict:
    """biz_type 17's biz_data (KB-EV/0005 names); `http` adds market_buy's orderChargeType."""
    fields = {
        "orderId": int(order.order_id), "suiteId": order.suite_id, "suiteKey": order.suite_key,
        "corpId": order.corp_id, "goodsCode": order.goods_code, "goodsName": order.goods_name,
        "itemCode": order.item_code, "itemName": order.item_name,
        "subQuantity": order.sub_quantity, "maxOfPeople": order.max_of_people,
        "minOfPeople": order.min_of_people, "paidtime": order.paid_ms,
        "serviceStartTime": order.start_ms, "serviceStopTime": order.stop_ms,
        "payFee": order.pay_fee, "nominalPayFee": order.nominal_pay_fee,
        "discountFee": order.nominal_pay_fee - order.pay_fee, "discount": 1.00,
        "orderType": order.order_type, "saleModelType": order.sale_model_type,
        "orderCreateSource": "APP_STORE", "distributorCorpId": "", "distributorCorpName": "",
        "unionId": order.buyer_unionid, "openId": "", "buyUserId": order.buyer_userid,
        "outTradeNo": "", "articleType": "normal", "purchaserType": 1,
        "autoChangeFreeItem": order.auto_change_free_item, "orderLabel": 0,
    }
    if order.in_app:
        fields.update({"mainGoodsCode": f"FW_GOODS-{order.suite_id}",
                       "mainGoodsName": order.goods_name})
    if http and order.charge_type is not None:
        fields["orderChargeType"] = order.charge_type
    return fields


def service_fields(order: Order) -> dict:
    """The members biz_type 37 shares between its open and close forms."""
    return {"orderId": int(order.order_id), "corpId": order.corp_id,
            "goodsCode": order.goods_code, "goodsName": order.goods_name,
            "itemCode": order.item_code, "itemName": order.item_name,
            "suiteId": order.suite_id, "suiteKey": order.suite_key, "payFee": order.pay_fee,
            "subQuantity": order.sub_quantity}


def order_answer(order: Order) -> dict:
    """GET /v1.0/appMarket/orders/{orderId}'s body."""
    return {"bizOrderId": int(order.order_id), "corpId": order.corp_id,
            "goodsCode": order.goods_code, "goodsName": order.goods_name,
            "itemCode": order.item_code, "itemName": order.item_name,
            "totalActualPayFee": order.pay_fee, "status": order.status,
            "quantity": order.sub_quantity, "paidTimestamp": order.paid_ms,
            "createTimestamp": order.created_ms, "startTimestamp": order.start_ms,
            "endTimestamp": order.stop_ms, "inAppOrder": order.in_app}


def internal_order(order: Order) -> dict:
    """topapi/appstore/internal/order/get's result (also unfinishedorder/list's items)."""
    return {"biz_order_id": int(order.order_id), "corp_id": order.corp_id,
            "goods_code": order.goods_code, "item_code": order.item_code,
            "quantity": order.sub_quantity, "status": order.status,
            "total_actual_pay_fee": order.pay_fee, "create_timestamp": order.created_ms,
            "paid_timestamp": order.paid_ms, "start_timestamp": order.start_ms,
            "end_timestamp": order.stop_ms}
