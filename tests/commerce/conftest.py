"""Fixtures and helpers of the commerce tests: market pushes built as DingTalk sends them,
pushed through the real callback endpoint and run through the inbox."""

from __future__ import annotations

import json
import time

import pytest

from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process
from tests.tenants.conftest import (  # noqa: F401
    authorized_tenant,
    celery_session_worker,
    celery_worker,
    dingtalk_at_emulator,
    make_app,
    make_suite,
    unique_corp_id,
)
from tests.tenants.pushes import push, sync_row, sync_rows

DAY_MS = 86_400_000


def now_ms() -> int:
    from core import clock

    return int(clock.time() * 1000)


def order_data(suite, corp_id, order_id, *, item="item_pro", fee=9900, days=365,
               order_type="BUY", start_ms=None, **extra) -> dict:
    """A biz_type 17 market_order biz_data (PROTOCOL-ISV 3.2 field names)."""
    start = start_ms if start_ms is not None else now_ms()
    return {"syncAction": "market_order", "orderId": order_id, "suiteId": suite.suite_id,
            "suiteKey": suite.suite_key, "corpId": corp_id, "goodsCode": "FW_GOODS-1",
            "goodsName": "Our app", "itemCode": item, "itemName": item.upper(),
            "subQuantity": 1, "maxOfPeople": 50, "minOfPeople": 1, "paidtime": start,
            "serviceStartTime": start, "serviceStopTime": start + days * DAY_MS,
            "payFee": fee, "nominalPayFee": fee, "discountFee": 0, "discount": 1.0,
            "orderType": order_type, "saleModelType": "CYC_UPGRADE_MEMBER",
            "orderCreateSource": "APP_STORE", "unionId": "buyer-union", "buyUserId": "manager1",
            "eventId": f"ev-{order_id}", **extra}


class Pusher:
    """Pushes market rows for one suite through the callback endpoint and runs each stored
    event through the inbox in this process."""

    def __init__(self, client, suite):
        self.client, self.suite, self.seq = client, suite, 0

    def row(self, biz_type, biz_id, data, corp_id):
        self.seq += 1
        return sync_row(self.suite, biz_type, biz_id, data, corp_id=corp_id,
                        modified=int(time.time() * 1000) + self.seq)

    def send(self, payload) -> list[CallbackEvent]:
        before = set(CallbackEvent.objects.filter(suite=self.suite).values_list("pk", flat=True))
        response = push(self.client, self.suite, payload)
        assert response.status_code == 200, response.content
        new = CallbackEvent.objects.filter(suite=self.suite).exclude(pk__in=before).order_by("pk")
        return [callback_event_process(event_id=event.pk) for event in new]

    def rows(self, *rows) -> list[CallbackEvent]:
        return self.send(sync_rows(*rows))

    def order(self, corp_id, order_id, **fields):
        data = order_data(self.suite, corp_id, order_id, **fields)
        return self.rows(self.row(17, order_id, data, corp_id))

    def service(self, corp_id, order_id, action, **extra):
        data = {"syncAction": f"market_service_{action}", "orderId": order_id,
                "corpId": corp_id, "suiteKey": self.suite.suite_key, **extra}
        return self.rows(self.row(37, order_id, data, corp_id))

    def refund(self, corp_id, order_id, fee=9900):
        data = {"syncAction": "market_order_refund_event", "orderId": order_id,
                "corpId": corp_id, "refundFee": fee}
        return self.rows(self.row(212, "", data, corp_id))

    def tryout(self, corp_id, unionid, tryout_type="enterprise_tryout",
               from_date="2026-01-01 00:00:00"):
        data = {"syncAction": "goods_tryout", "buyerUnionId": unionid, "corpId": corp_id,
                "goodsCode": "FW_GOODS-1", "userid": "u1", "tryoutType": tryout_type,
                "fromDate": from_date, "endDate": "2026-01-16 00:00:00",
                "itemType": "charge_item"}
        return self.rows(self.row(63, unionid, data, corp_id))

    def http_market_buy(self, corp_id, order_id, **fields):
        data = order_data(self.suite, corp_id, order_id, **fields)
        data.pop("syncAction")
        data.update({"EventType": "market_buy", "SuiteKey": self.suite.suite_key,
                     "buyCorpId": corp_id, "TimeStamp": str(now_ms())})
        return self.send(json.dumps(data))


@pytest.fixture
def pusher_for(client):
    return lambda suite: Pusher(client, suite)
