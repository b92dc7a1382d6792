"""The market's API over HTTP: GET /v1.0/appMarket/orders/{orderId} (suite token, the new API's
error shape) and the in-app endpoints topapi/appstore/internal/* (corp token, errcodes)."""

import pytest
import requests
from emulator_helpers import internal_app, post
from market_helpers import act, corp_token, new_api_get, order, suite_token


@pytest.fixture
def market(emulator):
    corp = emulator.create_corp(users=5)
    suite = emulator.create_suite(name="Shop")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    return emulator, corp, suite


def test_market_api_order_read_matches_the_control_order(market):
    emulator, corp, suite = market
    made = order(emulator, suite["suite_key"], corp["corp_id"], item_code="pro",
                 item_name="Pro", pay_fee=2500, sub_quantity=3)
    status, body = new_api_get(emulator, f"v1.0/appMarket/orders/{made['order_id']}",
                               suite_token(emulator, suite))
    assert status == 200, body
    assert body == {
        "bizOrderId": int(made["order_id"]), "corpId": corp["corp_id"],
        "goodsCode": made["goods_code"], "goodsName": made["goods_name"], "itemCode": "pro",
        "itemName": "Pro", "totalActualPayFee": 2500, "status": 3, "quantity": 3,
        "paidTimestamp": made["paid_ms"], "createTimestamp": made["created_ms"],
        "startTimestamp": made["service_start_ms"], "endTimestamp": made["service_stop_ms"],
        "inAppOrder": False}
    act(emulator, suite["suite_key"], made["order_id"], "refund", push=False)
    status, body = new_api_get(emulator, f"v1.0/appMarket/orders/{made['order_id']}",
                               suite_token(emulator, suite))
    assert (status, body["status"]) == (200, 0)


def test_market_api_order_errors_are_the_new_api_shape(market):
    emulator, corp, suite = market
    token = suite_token(emulator, suite)
    status, body = new_api_get(emulator, "v1.0/appMarket/orders/12345", token)
    assert status == 400 and body["code"] == "order.not.exist"
    assert set(body) == {"code", "message", "requestid"} and body["requestid"]
    other = emulator.create_suite(name="Other")
    foreign = order(emulator, other["suite_key"], corp["corp_id"], push=False)
    status, body = new_api_get(emulator, f"v1.0/appMarket/orders/{foreign['order_id']}", token)
    assert (status, body["code"]) == (400, "illegal.order.principle")


@pytest.mark.parametrize("token_kind", ["none", "junk", "corp", "expired"])
def test_market_api_order_needs_a_live_suite_token(market, token_kind):
    emulator, corp, suite = market
    made = order(emulator, suite["suite_key"], corp["corp_id"], push=False)
    token = {"none": None, "junk": "nope", "corp": None, "expired": None}[token_kind]
    if token_kind == "corp":
        token = corp_token(emulator, suite, corp["corp_id"])
    if token_kind == "expired":
        token = suite_token(emulator, suite)
        emulator.advance(7201)
    status, body = new_api_get(emulator, f"v1.0/appMarket/orders/{made['order_id']}", token)
    assert (status, body["code"]) == (400, "InvalidAuthentication")


def test_market_api_unknown_new_api_path_and_method(market):
    emulator, _, suite = market
    token = suite_token(emulator, suite)
    assert new_api_get(emulator, "v1.0/appMarket/nothing", token)[1]["code"] == \
        "InvalidAction.NotFound"
    response = requests.post(f"{emulator.base_url}/v1.0/appMarket/orders/1", json={},
                             headers={"x-acs-dingtalk-access-token": token}, timeout=10)
    assert response.status_code == 404


def test_market_api_faults_answer_in_the_new_api_shape(market):
    emulator, corp, suite = market
    made = order(emulator, suite["suite_key"], corp["corp_id"], push=False)
    token, path = suite_token(emulator, suite), f"v1.0/appMarket/orders/{made['order_id']}"
    emulator.add_fault("v1.0/appMarket/orders/{orderId}", http_status=503, count=1)
    status, body = new_api_get(emulator, path, token)
    assert (status, body["code"]) == (503, "systemBusy")
    emulator.add_fault("v1.0/appMarket/orders/{orderId}", http_status=400,
                       sub_code="goods.not.app", count=1)
    status, body = new_api_get(emulator, path, token)
    assert (status, body["code"]) == (400, "goods.not.app")
    emulator.add_fault("v1.0/appMarket/orders/{orderId}", throttle="app", count=1)
    status, body = new_api_get(emulator, path, token)
    assert (status, body["code"]) == (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    assert new_api_get(emulator, path, token)[0] == 200
    calls = emulator.counters()["calls"]
    assert calls["v1.0/appMarket/orders/{orderId}"] >= 3


# In-app purchase (corp token) ---------------------------------------------------------------


def in_app(emulator, suite, corp, **fields):
    return order(emulator, suite["suite_key"], corp["corp_id"], in_app=True, push=False,
                 **fields)


def test_market_api_in_app_get_finish_and_unfinished_list(market):
    emulator, corp, suite = market
    token = corp_token(emulator, suite, corp["corp_id"])
    first = in_app(emulator, suite, corp, item_code="pack10", sub_quantity=10, pay_fee=990)
    second = in_app(emulator, suite, corp, item_code="pack50")
    order(emulator, suite["suite_key"], corp["corp_id"], push=False)  # not in-app
    got = post(emulator, "topapi/appstore/internal/order/get", token,
               {"biz_order_id": first["order_id"]})
    assert got["errcode"] == 0 and got["request_id"]
    assert got["result"] == {
        "biz_order_id": int(first["order_id"]), "corp_id": corp["corp_id"],
        "goods_code": first["goods_code"], "item_code": "pack10", "quantity": 10,
        "status": 3, "total_actual_pay_fee": 990, "create_timestamp": first["created_ms"],
        "paid_timestamp": first["paid_ms"], "start_timestamp": first["service_start_ms"],
        "end_timestamp": first["service_stop_ms"]}
    listed = post(emulator, "topapi/appstore/internal/unfinishedorder/list", token,
                  {"page": 1, "page_size": 100})["result"]
    assert listed["total"] == 2
    assert [i["biz_order_id"] for i in listed["items"]] == [int(first["order_id"]),
                                                            int(second["order_id"])]
    only = post(emulator, "topapi/appstore/internal/unfinishedorder/list", token,
                {"item_code": "pack50"})["result"]
    assert [i["item_code"] for i in only["items"]] == ["pack50"]
    for _ in range(2):  # finishing twice answers ok twice
        done = post(emulator, "topapi/appstore/internal/order/finish", token,
                    {"biz_order_id": first["order_id"]})
        assert done["errcode"] == 0, done
    listed = post(emulator, "topapi/appstore/internal/unfinishedorder/list", token, {})
    assert [i["biz_order_id"] for i in listed["result"]["items"]] == [int(second["order_id"])]
    page2 = post(emulator, "topapi/appstore/internal/unfinishedorder/list", token,
                 {"page": 2, "page_size": 1})["result"]
    assert (page2["total"], page2["items"]) == (1, [])


def test_market_api_consume_is_idempotent_per_request_id(market):
    emulator, corp, suite = market
    token = corp_token(emulator, suite, corp["corp_id"])
    made = in_app(emulator, suite, corp, sub_quantity=5)
    userid = corp["userids"][0]
    body = {"biz_order_id": made["order_id"], "request_id": "r1", "quantity": 2,
            "userid": userid}
    first = post(emulator, "topapi/appstore/internal/order/consume", token, body)
    again = post(emulator, "topapi/appstore/internal/order/consume", token, body)
    assert first["errcode"] == again["errcode"] == 0
    assert first["result"] == again["result"] == {"request_id": "r1", "quantity": 2,
                                                  "remaining": 3}
    more = post(emulator, "topapi/appstore/internal/order/consume", token,
                {**body, "request_id": "r2", "quantity": 4})
    assert more["errcode"] == 400002  # only 3 left
    ghost = post(emulator, "topapi/appstore/internal/order/consume", token,
                 {**body, "request_id": "r3", "userid": "ghost"})
    assert ghost["errcode"] == 33012
    status, view = emulator_view(emulator, suite, made)
    assert (status, view["consumed"]) == (200, 2)


def emulator_view(emulator, suite, made):
    response = requests.get(f"{emulator.base_url}/_emulator/suites/{suite['suite_key']}/"
                            f"market/orders/{made['order_id']}", timeout=10)
    return response.status_code, response.json()


def test_market_api_in_app_refusals(market):
    emulator, corp, suite = market
    token = corp_token(emulator, suite, corp["corp_id"])
    plain = order(emulator, suite["suite_key"], corp["corp_id"], push=False)
    refunded = in_app(emulator, suite, corp)
    act(emulator, suite["suite_key"], refunded["order_id"], "refund", push=False)
    for order_id in ("999", plain["order_id"]):  # unknown; not an in-app order
        got = post(emulator, "topapi/appstore/internal/order/get", token,
                   {"biz_order_id": order_id})
        assert got["errcode"] == 400002 and got["request_id"]
    assert post(emulator, "topapi/appstore/internal/order/get", token, {})["errcode"] == 400002
    assert post(emulator, "topapi/appstore/internal/order/finish", token,
                {"biz_order_id": refunded["order_id"]})["errcode"] == 400002
    for page in ({"page": 0}, {"page_size": 101}, {"page": "x"}):
        assert post(emulator, "topapi/appstore/internal/unfinishedorder/list", token,
                    page)["errcode"] == 400002
    # Another corp's token does not see this corp's in-app orders.
    corp2 = emulator.create_corp(users=2)
    emulator.authorize(suite["suite_key"], corp2["corp_id"])
    token2 = corp_token(emulator, suite, corp2["corp_id"])
    fresh = in_app(emulator, suite, corp)
    assert post(emulator, "topapi/appstore/internal/order/get", token2,
                {"biz_order_id": fresh["order_id"]})["errcode"] == 400002
    assert post(emulator, "topapi/appstore/internal/unfinishedorder/list", token2,
                {})["result"]["total"] == 0
    # Internal apps have no market; a missing token is 41001 as everywhere.
    _, _, app_token = internal_app(emulator, users=1)
    assert post(emulator, "topapi/appstore/internal/order/get", app_token,
                {"biz_order_id": fresh["order_id"]})["errcode"] == 60011
    assert post(emulator, "topapi/appstore/internal/order/get", None, {})["errcode"] == 41001


def test_market_api_sku_page(market):
    emulator, corp, suite = market
    token = corp_token(emulator, suite, corp["corp_id"])
    got = post(emulator, "topapi/appstore/internal/skupage/get", token,
               {"goods_code": "DT_GOODS_1", "callback_page": "https%3A%2F%2Fisv.example%2Fok"})
    assert got["errcode"] == 0
    assert got["result"].startswith("https://") and "goodsCode=DT_GOODS_1" in got["result"]
    assert "callbackPage=https%3A%2F%2Fisv.example%2Fok" in got["result"]
    assert post(emulator, "topapi/appstore/internal/skupage/get", token, {})["errcode"] == 400002
