"""The market's control routes and pushes (PROTOCOL-ISV 3.2): orders, refunds, renew-change
opens, free switches and app opens, in SyncHTTP and HTTP-push style, parsed by dingtalk.events."""

import json

import pytest
from market_helpers import act, control, order
from pusher_helpers import make_suite, settled

from dingtalk.events import (
    MarketOrderEvent,
    MarketRefundEvent,
    MarketServiceEvent,
    MarketTryoutEvent,
    parse_callback,
)


@pytest.fixture
def world(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    return emulator, receiver, corp, suite


def rows(push):
    payload = push["payload"]
    return payload["EventType"], [dict(r, biz_data=json.loads(r["biz_data"]))
                                  for r in payload["bizData"]]


def test_market_order_pushes_biz_type_17_with_its_fields(world):
    emulator, receiver, corp, suite = world
    made = order(emulator, suite["suite_key"], corp["corp_id"], item_code="pro",
                 item_name="Pro", max_of_people=50, pay_fee=19900, sub_quantity=2)
    assert made["status"] == 3 and made["pushes"][0]["event"] == "17:market_order"
    event_type, [row] = rows(receiver.wait_for(1)[0])
    assert event_type == "SYNC_HTTP_PUSH_HIGH"
    biz = row["biz_data"]
    assert (row["biz_type"], row["biz_id"], row["corp_id"]) == (17, made["order_id"],
                                                                corp["corp_id"])
    assert biz["syncAction"] == "market_order" and biz["orderId"] == int(made["order_id"])
    assert (biz["itemCode"], biz["itemName"], biz["maxOfPeople"], biz["payFee"],
            biz["subQuantity"], biz["orderType"]) == ("pro", "Pro", 50, 19900, 2, "BUY")
    assert biz["serviceStopTime"] > biz["serviceStartTime"] == made["service_start_ms"]
    assert biz["suiteKey"] == suite["suite_key"] and biz["eventId"]
    assert "orderChargeType" not in biz  # the legacy HTTP push's field only
    [event] = parse_callback(receiver.received[0]["payload"])
    assert isinstance(event, MarketOrderEvent) and event.order_id == made["order_id"]
    settled(emulator, suite["suite_key"])


def test_market_order_table_is_configurable(world):
    emulator, receiver, corp, suite = world
    emulator.set_config(market={"order_table": "medium"})
    order(emulator, suite["suite_key"], corp["corp_id"])
    assert rows(receiver.wait_for(1)[0])[0] == "SYNC_HTTP_PUSH_MEDIUM"


def test_market_http_push_style_sends_market_buy(emulator, receiver):
    corp = emulator.create_corp(users=3)
    suite = make_suite(emulator, receiver)
    made = order(emulator, suite["suite_key"], corp["corp_id"], charge_type="TRYOUT")
    payload = receiver.wait_for(1)[0]["payload"]
    assert payload["EventType"] == "market_buy" and payload["SuiteKey"] == suite["suite_key"]
    assert (payload["orderChargeType"], payload["payFee"], payload["buyCorpId"]) == (
        "TRYOUT", 0, corp["corp_id"])
    assert payload["serviceStopTime"] - payload["serviceStartTime"] == 15 * 86_400_000
    [event] = parse_callback(payload)
    assert isinstance(event, MarketOrderEvent) and event.order_id == made["order_id"]


@pytest.mark.parametrize(("via", "expected"), [
    ("both", [37, 212]), ("37", [37]), ("212", [212]),
])
def test_market_refund_closes_the_order_and_pushes(world, via, expected):
    emulator, receiver, corp, suite = world
    made = order(emulator, suite["suite_key"], corp["corp_id"], pay_fee=5000)
    emulator.set_config(market={"refund_pushes": via})
    refunded = act(emulator, suite["suite_key"], made["order_id"], "refund")
    assert refunded["status"] == 0 and refunded["refund_fee"] == 5000
    pushes = receiver.wait_for(1 + len(expected))[1:]
    got = [rows(p)[1][0] for p in pushes]
    assert [r["biz_type"] for r in got] == expected
    events = [parse_callback(p["payload"])[0] for p in pushes]
    for row, event in zip(got, events, strict=True):
        if row["biz_type"] == 37:
            assert row["biz_id"] == made["order_id"]
            assert (row["biz_data"]["closeType"], row["biz_data"]["refundId"]) == (
                3, refunded["refund_id"])
            assert isinstance(event, MarketServiceEvent) and event.action == "close"
        else:
            assert row["biz_id"] != made["order_id"]  # 212's biz_id means nothing
            assert row["biz_data"]["refundFee"] == 5000
            assert rows(pushes[got.index(row)])[0] == "SYNC_HTTP_PUSH_MEDIUM"
            assert isinstance(event, MarketRefundEvent)
        assert event.order_id == made["order_id"]
    status, again = control(emulator, "POST",
                            f"suites/{suite['suite_key']}/market/orders/{made['order_id']}"
                            "/refund", {})
    assert status == 409, again


def test_market_refund_via_in_the_body_wins_over_the_config(world):
    emulator, receiver, corp, suite = world
    made = order(emulator, suite["suite_key"], corp["corp_id"])
    refunded = act(emulator, suite["suite_key"], made["order_id"], "refund", via="212")
    assert [p["event"] for p in refunded["pushes"]] == ["212:market_order_refund_event"]


def test_market_renew_change_opens_later(world):
    emulator, receiver, corp, suite = world
    key = suite["suite_key"]
    plain = order(emulator, key, corp["corp_id"])
    status, _ = control(emulator, "POST",
                        f"suites/{key}/market/orders/{plain['order_id']}/open", {})
    assert status == 409
    change = order(emulator, key, corp["corp_id"], order_type="RENEW_UPGRADE",
                   item_code="enterprise")
    opened = act(emulator, key, change["order_id"], "open")
    assert opened["opened"] is True
    _, [row] = rows(receiver.wait_for(3)[2])
    assert (row["biz_type"], row["biz_data"]["syncAction"], row["biz_data"]["openType"]) == (
        37, "market_service_open", 3)
    assert row["biz_data"]["serviceStopTime"] == change["service_stop_ms"]
    [event] = parse_callback(receiver.received[2]["payload"])
    assert isinstance(event, MarketServiceEvent)
    assert (event.action, event.order_id) == ("open", change["order_id"])
    status, _ = control(emulator, "POST",
                        f"suites/{key}/market/orders/{change['order_id']}/open", {})
    assert status == 409  # once


def test_market_free_switch_is_a_new_free_order_of_the_same_buyer(world):
    emulator, receiver, corp, suite = world
    key = suite["suite_key"]
    buyer = corp["userids"][1]
    trial = order(emulator, key, corp["corp_id"], charge_type="TRYOUT", buyer_userid=buyer)
    free = act(emulator, key, trial["order_id"], "free_switch", item_code="free",
               max_of_people=10)
    assert free["order_id"] != trial["order_id"]
    assert (free["charge_type"], free["auto_change_free_item"], free["buyer_userid"],
            free["pay_fee"], free["item_code"], free["max_of_people"]) == (
        "FREE", True, buyer, 0, "free", 10)
    assert free["service_start_ms"] == trial["service_stop_ms"]
    _, [row] = rows(receiver.wait_for(2)[1])
    assert row["biz_data"]["autoChangeFreeItem"] is True
    assert row["biz_data"]["buyUserId"] == buyer


def test_market_tryout_pushes_63_and_optionally_an_order(world):
    emulator, receiver, corp, suite = world
    key, userid = suite["suite_key"], corp["userids"][2]
    status, opened = control(emulator, "POST", f"suites/{key}/market/tryout", {
        "corp_id": corp["corp_id"], "userid": userid, "tryout_type": "personal_tryout",
        "item_type": "charge_item", "days": 7})
    assert status == 200 and opened["end_ms"] - opened["from_ms"] == 7 * 86_400_000
    assert "order" not in opened
    _, [row] = rows(receiver.wait_for(1)[0])
    biz = row["biz_data"]
    assert (row["biz_type"], row["biz_id"], biz["userid"], biz["tryoutType"],
            biz["itemType"]) == (63, opened["unionid"], userid, "personal_tryout",
                                 "charge_item")
    assert len(biz["fromDate"]) == 19 and biz["fromDate"][4] == "-"
    [event] = parse_callback(receiver.received[0]["payload"])
    assert isinstance(event, MarketTryoutEvent) and event.corp_id == corp["corp_id"]
    status, corp_open = control(emulator, "POST", f"suites/{key}/market/tryout", {
        "corp_id": corp["corp_id"], "tryout_type": "enterprise_tryout", "item_code": "trial"})
    assert status == 200 and corp_open["order"]["charge_type"] == "TRYOUT"
    biz_types = sorted(rows(p)[1][0]["biz_type"] for p in receiver.wait_for(3)[1:])
    assert biz_types == [17, 63]


def test_market_push_false_models_a_lost_push(world):
    emulator, receiver, corp, suite = world
    made = order(emulator, suite["suite_key"], corp["corp_id"], push=False)
    assert made["pushes"] == [] and emulator.pushes(suite_key=suite["suite_key"]) == []
    status, listed = control(emulator, "GET", f"suites/{suite['suite_key']}/market/orders")
    assert status == 200 and [o["order_id"] for o in listed] == [made["order_id"]]


def test_market_http_style_extra_events_can_be_turned_off(emulator, receiver):
    corp = emulator.create_corp(users=3)
    suite = make_suite(emulator, receiver)
    made = order(emulator, suite["suite_key"], corp["corp_id"])
    refunded = act(emulator, suite["suite_key"], made["order_id"], "refund", via="37")
    payload = receiver.wait_for(2)[1]["payload"]
    assert payload["EventType"] == "market_service_close" and payload["closeType"] == 3
    assert isinstance(parse_callback(payload)[0], MarketServiceEvent)
    emulator.set_config(market={"http_market_events": False})
    second = order(emulator, suite["suite_key"], corp["corp_id"])
    refunded = act(emulator, suite["suite_key"], second["order_id"], "refund")
    assert refunded["pushes"] == []


@pytest.mark.parametrize(("body", "status"), [
    ({"item_code": "pro"}, 404),  # no corp_id
    ({"corp_id": "nope", "item_code": "pro"}, 404),
    ({"item_code": 5}, 400),
    ({"order_type": "GIFT"}, 400),
    ({"charge_type": "PAID"}, 400),
    ({"sub_quantity": True}, 400),
    ({"pay_fee": -1}, 400),
    ({"service_start_ms": 10, "service_stop_ms": 5}, 400),
    ({"buyer_userid": "ghost"}, 404),
    ({"in_app": "yes"}, 400),
])
def test_market_control_refuses_bad_orders(world, body, status):
    emulator, _, corp, suite = world
    body = {"corp_id": corp["corp_id"], "item_code": "pro", **body}
    if body == {"corp_id": corp["corp_id"], "item_code": "pro"}:
        del body["corp_id"]  # the case that names no corp
    got, answer = control(emulator, "POST", f"suites/{suite['suite_key']}/market/orders", body)
    assert got == status, answer
    assert control(emulator, "GET", f"suites/{suite['suite_key']}/market/orders")[1] == []


def test_market_control_unknown_suite_and_order(world):
    emulator, _, corp, suite = world
    assert control(emulator, "POST", "suites/nosuite/market/orders",
                   {"corp_id": corp["corp_id"], "item_code": "x"})[0] == 404
    assert control(emulator, "POST",
                   f"suites/{suite['suite_key']}/market/orders/123/refund", {})[0] == 404
    other = emulator.create_suite(name="Other")
    made = order(emulator, other["suite_key"], corp["corp_id"], push=False)
    # Another suite's order is not this suite's to refund.
    assert control(emulator, "POST", f"suites/{suite['suite_key']}/market/orders/"
                   f"{made['order_id']}/refund", {})[0] == 404


def test_market_config_refuses_unknown_choices(emulator):
    for bad in ({"refund_pushes": "all"}, {"order_table": "low"}, {"nope": 1}):
        with pytest.raises(Exception, match="400"):
            emulator.set_config(market=bad)


def test_market_orders_go_with_a_reset(world):
    emulator, _, corp, suite = world
    order(emulator, suite["suite_key"], corp["corp_id"], push=False)
    emulator.reset()
    suite2 = emulator.create_suite(suite_key=suite["suite_key"])
    assert control(emulator, "GET", f"suites/{suite2['suite_key']}/market/orders")[1] == []


def test_market_control_client_methods(world):
    emulator, receiver, corp, suite = world
    key = suite["suite_key"]
    made = emulator.market_order(key, corp["corp_id"], "pro", order_type="RENEW_DEGRADE",
                                 push=False)
    assert emulator.market_orders(key, corp_id=corp["corp_id"])[0]["order_id"] == \
        made["order_id"]
    assert emulator.market_orders(key, corp_id="other") == []
    assert emulator.market_open(key, made["order_id"], push=False)["opened"] is True
    assert emulator.market_free_switch(key, made["order_id"], "free",
                                       push=False)["charge_type"] == "FREE"
    assert emulator.market_refund(key, made["order_id"], push=False)["status"] == 0
    opened = emulator.market_tryout(key, corp["corp_id"], tryout_type="enterprise_tryout",
                                    push=False)
    assert opened["tryout_type"] == "enterprise_tryout" and opened["pushes"] == []
    assert receiver.received == []
