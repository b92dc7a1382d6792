"""client.appstore against the emulator: in-app orders read, finished, consumed, reconciled."""

import pytest

from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials, SuiteCredentials
from dingtalk.errors import InvalidRequest, NotFound, PermissionDenied
from dingtalk.isv import SuiteApi
from dingtalk.retry import RetryPolicy
from tests.dingtalk.test_client_support import Sleeps


@pytest.fixture
def store(emulator):
    corp = emulator.create_corp(users=3)
    suite = emulator.create_suite(name="Shop")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    api = SuiteApi(SuiteCredentials(suite["suite_key"], suite["suite_secret"],
                                    lambda: emulator.current_ticket(suite["suite_key"])),
                   base_url=emulator.base_url, retry=RetryPolicy(sleep=Sleeps()))

    def buy(**fields):
        return emulator._call("POST", f"suites/{suite['suite_key']}/market/orders", {
            "corp_id": corp["corp_id"], "item_code": "pack", "in_app": True, "push": False,
            **fields})

    yield api.corp_client(corp["corp_id"]).appstore, buy, corp
    api.close()


def test_appstore_order_get_finish_and_the_unfinished_list(store):
    appstore, buy, corp = store
    first, second = buy(sub_quantity=10, pay_fee=990), buy(item_code="big")
    got = appstore.internal_order_get(first["order_id"])
    assert (got["biz_order_id"], got["corp_id"], got["status"], got["quantity"],
            got["total_actual_pay_fee"]) == (int(first["order_id"]), corp["corp_id"], 3, 10,
                                             990)
    total, items = appstore.unfinished_orders()
    assert total == 2 and [str(i["biz_order_id"]) for i in items] == [
        first["order_id"], second["order_id"]]
    assert appstore.unfinished_orders(item_code="big")[0] == 1
    appstore.internal_order_finish(first["order_id"])
    appstore.internal_order_finish(first["order_id"])  # a repeat is harmless
    total, items = appstore.unfinished_orders(page=1, page_size=1)
    assert total == 1 and [str(i["biz_order_id"]) for i in items] == [second["order_id"]]
    assert appstore.unfinished_orders(page=2, page_size=1) == (1, [])


def test_appstore_consume_once_per_request_id(store):
    appstore, buy, corp = store
    made = buy(sub_quantity=3)
    userid = corp["userids"][0]
    first = appstore.internal_order_consume(biz_order_id=made["order_id"], request_id="r1",
                                            quantity=2, userid=userid)
    again = appstore.internal_order_consume(biz_order_id=made["order_id"], request_id="r1",
                                            quantity=2, userid=userid)
    assert first == again and first["remaining"] == 1
    with pytest.raises(InvalidRequest):  # 400002: only one left
        appstore.internal_order_consume(biz_order_id=made["order_id"], request_id="r2",
                                        quantity=2, userid=userid)
    with pytest.raises(NotFound):  # 33012
        appstore.internal_order_consume(biz_order_id=made["order_id"], request_id="r3",
                                        quantity=1, userid="ghost")


def test_appstore_refusals(store, emulator):
    appstore, buy, corp = store
    with pytest.raises(InvalidRequest) as caught:
        appstore.internal_order_get("404404")
    assert caught.value.errcode == 400002
    with pytest.raises(InvalidRequest):
        appstore.unfinished_orders(page_size=101)
    app = emulator.create_app(corp["corp_id"])
    internal = DingTalkClient(AppCredentials(app["appkey"], app["appsecret"]),
                              base_url=emulator.base_url)
    with pytest.raises(PermissionDenied):  # 60011: internal apps have no market
        internal.appstore.internal_order_get(buy()["order_id"])


def test_appstore_sku_page(store):
    appstore, _, _ = store
    url = appstore.sku_page("DT_GOODS_1", callback_page="https%3A%2F%2Fisv.example%2Fdone")
    assert url.startswith("https://") and "goodsCode=DT_GOODS_1" in url
    assert "callbackPage=https%3A%2F%2Fisv.example%2Fdone" in url
