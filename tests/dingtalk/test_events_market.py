"""parse_callback on the app-market rows (PROTOCOL-ISV 3.2): 17, 37, 212, 63, their HTTP forms."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dingtalk.events as events_module
from dingtalk.events import (
    MarketOrderEvent,
    MarketRefundEvent,
    MarketServiceEvent,
    MarketTryoutEvent,
    UnknownEvent,
    parse_callback,
)
from tests.dingtalk.test_events import CORP, one, row, sync
from tests.dingtalk.test_events_robust import sane

SERVICE = {"orderId": 31, "corpId": CORP, "goodsCode": "FW_GOODS-1", "itemCode": "I1",
           "suiteId": 14999999001, "suiteKey": "suiteK", "payFee": 100, "subQuantity": 1}


def test_events_market_service_close_and_open():
    close = one(sync(row(37, {"syncAction": "market_service_close", "closeType": 3,
                              "refundId": "r9", **SERVICE}, biz_id="31")))
    assert isinstance(close, MarketServiceEvent)
    assert (close.kind, close.action, close.order_id, close.corp_id, close.suite_key) == (
        "market_service", "close", "31", CORP, "suiteK")
    assert close.data["refundId"] == "r9" and close.suite_id == "14999999001"
    opened = one(sync(row(37, {"syncAction": "market_service_open", "openType": 3,
                               "serviceStartTime": 1, "serviceStopTime": 2, **SERVICE},
                          biz_id="31")))
    assert isinstance(opened, MarketServiceEvent)
    assert (opened.action, opened.order_id, opened.data["openType"]) == ("open", "31", 3)


@pytest.mark.parametrize(("spelling", "action"), [
    ({"syncAction": "subscription_open"}, "open"),
    ({"syncAction": "subscription_close"}, "close"),
    ({"eventType": "subscription_close"}, "close"),
    ({"EventType": "market_service_open"}, "open"),
])
def test_events_market_service_other_spellings(spelling, action):
    event = one(sync(row(37, {**spelling, "orderId": "o5"}, biz_id="o5")))
    assert isinstance(event, MarketServiceEvent) and event.action == action
    assert event.order_id == "o5"


def test_events_market_service_row_without_an_action_is_unknown():
    # 37 carries both open and close: without a name the row cannot be read as either.
    event = one(sync(row(37, {"orderId": "o5"})))
    assert isinstance(event, UnknownEvent) and event.biz_type == 37


def test_events_market_service_order_id_falls_back_to_biz_id():
    event = one(sync(row(37, {"syncAction": "market_service_close"}, biz_id="o7")))
    assert event.order_id == "o7"


def test_events_market_refund_takes_the_order_from_data_not_biz_id():
    event = one(sync(row(212, {"syncAction": "market_order_refund_event", "corpId": CORP,
                               "orderId": 88, "refundFee": 500}, biz_id="meaningless"),
                     level="MEDIUM"))
    assert isinstance(event, MarketRefundEvent)
    assert (event.kind, event.order_id, event.data["refundFee"]) == ("market_refund", "88", 500)
    missing = one(sync(row(212, {"syncAction": "market_order_refund_event"}, biz_id="x")))
    assert isinstance(missing, MarketRefundEvent) and missing.order_id is None


def test_events_market_refund_row_named_by_biz_type_alone():
    event = one(sync(row(212, {"orderId": "o1", "refundFee": 1})))
    assert isinstance(event, MarketRefundEvent) and event.order_id == "o1"


def test_events_market_tryout():
    data = {"syncAction": "goods_tryout", "buyerUnionId": "u1", "corpId": CORP,
            "tryoutType": "enterprise_tryout", "fromDate": "2026-01-01 00:00:00",
            "endDate": "2026-01-16 00:00:00", "itemType": "charge_item", "userid": "manager1"}
    event = one(sync(row(63, data, biz_id="u1")))
    assert isinstance(event, MarketTryoutEvent)
    assert (event.kind, event.corp_id, event.data["tryoutType"]) == (
        "market_tryout", CORP, "enterprise_tryout")
    assert not hasattr(event, "order_id")


def test_events_market_tryout_in_its_event_type_form():
    # KB-EV/0005 shows biz_type 63's biz_data with EventType instead of syncAction.
    event = one(sync(row(63, {"EventType": "goods_tryout", "tryoutType": "personal_tryout"})))
    assert isinstance(event, MarketTryoutEvent)
    bare = one(sync(row(63, {"tryoutType": "personal_tryout"})))
    assert isinstance(bare, MarketTryoutEvent)


def test_events_market_order_row_named_by_biz_type_alone():
    event = one(sync(row(17, {"orderId": "o3"}, biz_id="o3")))
    assert isinstance(event, MarketOrderEvent) and event.order_id == "o3"


def test_events_market_other_biz_types_keep_their_rule():
    # Only the market biz types fall back on their number; others still need a syncAction.
    assert isinstance(one(sync(row(4, {"EventType": "goods_tryout"}))), UnknownEvent)
    unknown = one(sync(row(17, {"syncAction": "market_order_cancel"})))
    assert isinstance(unknown, UnknownEvent) and unknown.event_type == "market_order_cancel"


@pytest.mark.parametrize(("event_type", "cls"), [
    ("market_service_close", MarketServiceEvent), ("subscription_open", MarketServiceEvent),
    ("market_order_refund_event", MarketRefundEvent), ("goods_tryout", MarketTryoutEvent),
])
def test_events_market_http_forms(event_type, cls):
    event = one({"EventType": event_type, "SuiteKey": "suiteK", "corpId": CORP,
                 "orderId": "o9", "TimeStamp": 1700000000000})
    assert isinstance(event, cls)
    assert (event.suite_key, event.corp_id, event.timestamp_ms) == (
        "suiteK", CORP, 1700000000000)


def test_events_market_repeats_share_a_dedupe_key_and_reparse():
    payload = sync(row(37, {"syncAction": "market_service_close", **SERVICE}, biz_id="31"),
                   row(212, {"syncAction": "market_order_refund_event", "orderId": 31}),
                   row(63, {"syncAction": "goods_tryout", "eventId": "e1"}, biz_id="u1"))
    first, second = parse_callback(payload), parse_callback(payload)
    assert [e.dedupe_key for e in first] == [e.dedupe_key for e in second]
    assert len({e.dedupe_key for e in first}) == 3
    for event in first:
        assert parse_callback(event.raw) == [event]


def test_events_market_distinct_event_ids_are_distinct_rows():
    rows = [row(63, {"syncAction": "goods_tryout", "eventId": e}, biz_id="u1") for e in "ab"]
    keys = {one(sync(r)).dedupe_key for r in rows}
    assert len(keys) == 2


@pytest.mark.parametrize("order_id", [
    "o\x00rder", "\ud800", "9" * 300, 1e400, float("nan"), {"nested": "o1"}, ["o1"], True,
    json.dumps({"orderId": "o1"}),
])
@pytest.mark.parametrize(("biz_type", "action"), [
    (17, "market_order"), (37, "market_service_close"), (212, "market_order_refund_event"),
])
def test_events_market_hostile_order_ids_are_absent_or_safe(order_id, biz_type, action):
    data = {"syncAction": action, "orderId": order_id}
    text = json.dumps(data, allow_nan=True)
    event = one(sync(row(biz_type, text, biz_id="")))
    sane(event)
    assert event.kind != "unknown"
    value = event.order_id
    if value is not None:
        assert isinstance(value, str) and "\x00" not in value and len(value) <= 255
        value.encode("utf-8")
    # A JSON text inside a string stays that string: it is never parsed into an order.
    if isinstance(order_id, str) and order_id.startswith("{"):
        assert value == order_id


@pytest.mark.parametrize("biz_data", [
    "Infinity", "NaN", '"{\\"syncAction\\": \\"goods_tryout\\"}"', "[]", "\x00", "{",
    json.dumps({"syncAction": ["goods_tryout"]}), json.dumps({"syncAction": "goods\x00tryout"}),
    json.dumps({"EventType": {"x": 1}}),
])
@pytest.mark.parametrize("biz_type", [37, 63])
def test_events_market_hostile_biz_data_stays_unknown(biz_data, biz_type):
    event = one(sync(row(biz_type, biz_data)))
    sane(event)
    if biz_type == 37 or not biz_data.startswith("{"):
        assert isinstance(event, UnknownEvent)


market_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(
    st.characters(codec=None, exclude_categories=()), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([17, 37, 63, 212]),
       st.dictionaries(st.sampled_from(["syncAction", "EventType", "eventType", "orderId",
                                        "corpId", "suiteKey", "refundId", "x"]),
                       market_values | st.lists(market_values, max_size=3), max_size=6),
       market_values)
def test_events_market_hostile_rows_never_raise(biz_type, data, biz_id):
    payload = {"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [
        {"biz_type": biz_type, "biz_id": biz_id, "corp_id": CORP, "biz_data": data},
        {"biz_type": biz_type, "biz_id": biz_id, "biz_data": json.dumps(data)}]}
    for event in parse_callback(payload):
        sane(event)
        order_id = getattr(event, "order_id", None)
        assert order_id is None or (isinstance(order_id, str) and "\x00" not in order_id)


def test_events_market_kinds_are_in_the_docstring():
    for kind in ("market_service", "market_refund", "market_tryout"):
        assert f"`{kind}`" in events_module.__doc__
