"""parse_callback on anything: unknowns never raise; dedupe keys, timestamps and raw round trips."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dingtalk.events as events_module
from dingtalk.events import UnknownEvent, parse_callback
from tests.dingtalk.test_events import one, row, sync

# Unknowns never raise -----------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    "not json", "[1, 2]", "42", "", '{"EventType": "brand_new_event"}', "{}",
    '{"EventType": 5}', sync(row(4, "{not json")), sync(row(4, "[1]")), sync(row(4, "null")),
    json.dumps({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": "oops"}),
    json.dumps({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [1, None]}),
])
def test_events_unknown_payloads_never_raise(payload):
    evs = parse_callback(payload)
    assert evs and all(isinstance(e, UnknownEvent) and e.kind == "unknown" for e in evs)
    assert all(e.dedupe_key and len(e.dedupe_key) <= 255 for e in evs)


def test_events_empty_sync_push_gives_no_events():
    assert parse_callback(sync()) == []


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["EventType", "bizData", "biz_type", "biz_data",
                                       "syncAction", "TimeStamp", "corp_id", "UserId",
                                       "gmt_modified", "x"]), children, max_size=5),
    max_leaves=15,
))
def test_events_arbitrary_json_never_raises(value):
    evs = parse_callback(json.dumps(value))
    for event in evs:
        assert isinstance(event.kind, str) and event.dedupe_key
        assert len(event.dedupe_key) <= 255


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
known_actions = st.sampled_from(
    sorted(events_module.SYNC_ACTIONS) + sorted(events_module.CONTACT_ACTIONS)
    + ["suite_ticket", "nope"])
biz_data = st.one_of(
    json_values.map(json.dumps),
    st.tuples(known_actions, st.dictionaries(st.sampled_from(
        ["agentId", "AppId", "orderId", "suiteTicket", "suiteKey", "name"]), json_values))
    .map(lambda t: json.dumps({"syncAction": t[0], **t[1]})),
)
sync_rows = st.dictionaries(
    st.sampled_from(["biz_type", "corp_id", "biz_id", "gmt_modified", "gmt_create", "id",
                     "subscribe_id"]),
    json_values,
).flatmap(lambda r: biz_data.map(lambda b: {**r, "biz_data": b}))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(sync_rows, json_values), max_size=4))
def test_events_arbitrary_sync_rows_never_raise(rows):
    evs = parse_callback({"EventType": "SYNC_HTTP_PUSH_MEDIUM", "bizData": rows})
    assert len(evs) == len(rows)
    assert all(e.dedupe_key and len(e.dedupe_key) <= 255 for e in evs)


# Dedupe keys, timestamps, raw ---------------------------------------------------------------


def test_events_dedupe_key_stable_for_repeats():
    a = '{"SuiteKey":"s","EventType":"suite_ticket","TimeStamp":1,"SuiteTicket":"t"}'
    b = {"SuiteTicket": "t", "TimeStamp": 1, "EventType": "suite_ticket", "SuiteKey": "s"}
    assert one(a).dedupe_key == one(b).dedupe_key
    c = {"SuiteTicket": "t2", "TimeStamp": 1, "EventType": "suite_ticket", "SuiteKey": "s"}
    assert one(c).dedupe_key != one(a).dedupe_key


def test_events_sync_dedupe_key_changes_with_new_state():
    data = {"syncAction": "org_suite_auth"}
    first = one(sync(row(4, data, gmt=100, id_=1)))
    again = one(sync(row(4, data, gmt=100, id_=1)))
    newer = one(sync(row(4, data, gmt=200, id_=2)))
    other_corp = one(sync(row(4, data, gmt=100, id_=1, corp_id="dingB")))
    assert first.dedupe_key == again.dedupe_key
    assert len({first.dedupe_key, newer.dedupe_key, other_corp.dedupe_key}) == 3
    assert newer.timestamp_ms == 200


def test_events_long_ids_keep_key_bounded():
    event = one(sync(row(13, {"syncAction": "user_modify_org"}, biz_id="u" * 300)))
    assert len(event.dedupe_key) <= 255 and event.dedupe_key.startswith("sync:")


def test_events_raw_reparses_to_same_event():
    payloads = [
        {"SuiteKey": "s", "EventType": "tmp_auth_code", "AuthCode": "c", "AuthCorpId": "d",
         "TimeStamp": 5},
        sync(row(4, {"syncAction": "org_suite_change"}), row(7, {"syncAction":
             "org_micro_app_stop", "agentId": 1}), row(13, {"syncAction": "user_leave_org"})),
        {"EventType": "mystery"},
    ]
    for payload in payloads:
        for event in parse_callback(payload):
            assert parse_callback(event.raw) == [event]
            assert json.loads(json.dumps(event.raw)) == event.raw


def test_events_docstring_lists_every_kind():
    kinds = {"check_url", "check_create_suite_url", "check_update_suite_url", "suite_ticket",
             "tmp_auth_code", "change_auth", "suite_relieve", "check_suite_license_code",
             "market_order", "unknown"}
    kinds |= {kind for kind, _ in events_module.SYNC_ACTIONS.values()}
    kinds |= {f"contact_{obj}" for obj, _ in events_module.CONTACT_ACTIONS.values()}
    for kind in kinds:
        assert f"`{kind}`" in events_module.__doc__


def test_events_are_frozen():
    event = one({"EventType": "change_auth", "AuthCorpId": "d"})
    with pytest.raises(AttributeError):
        event.corp_id = "x"
