"""parse_callback on anything: unknowns never raise; dedupe keys, timestamps and raw round trips."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dingtalk.events as events_module
from dingtalk.events import UnknownEvent, parse_callback
from tests.dingtalk.test_events import CORP, one, row, sync

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


# Hostile but valid JSON: numbers, nesting, keys, huge strings, NUL, surrogates --------------

BIGINT = 2**63
TICKET = {"EventType": "suite_ticket", "SuiteKey": "suiteA", "SuiteTicket": "t1"}


def sane(event) -> None:
    """What the tenants app stores: ids PostgreSQL accepts, a bigint timestamp, a bounded key."""
    assert event.timestamp_ms is None or 0 <= event.timestamp_ms < BIGINT
    for value in (event.corp_id, event.suite_key, event.suite_id,
                  getattr(event, "event_type", None), *getattr(event, "ids", ())):
        if value is not None:
            assert isinstance(value, str) and 0 < len(value) <= 255 and "\x00" not in value
            value.encode("utf-8")
    for name in ("agent_id", "app_id", "biz_type"):
        value = getattr(event, name, None)
        assert value is None or (type(value) is int and -BIGINT <= value < BIGINT)
    assert 0 < len(event.dedupe_key) <= 255 and "\x00" not in event.dedupe_key
    event.dedupe_key.encode("utf-8")


@pytest.mark.parametrize("stamp", [
    "Infinity", "-Infinity", "NaN", "1e400", "-1e400", "1e300", "-5", "1.5", str(BIGINT),
    str(-BIGINT - 1), json.dumps("9" * 5000), json.dumps("1_000"), json.dumps("١٢٣"),
    "[1]", "{}", "true",
])
def test_events_insane_timestamp_is_absent_and_other_fields_kept(stamp):
    text = json.dumps(TICKET)[:-1] + f', "TimeStamp": {stamp}}}'
    event = one(text)
    assert type(event).__name__ == "SuiteTicketEvent"
    assert (event.ticket, event.suite_key, event.timestamp_ms) == ("t1", "suiteA", None)
    sane(event)


@pytest.mark.parametrize(("stamp", "expected"), [
    ("1445827045067", 1445827045067), ("1445827045067.0", 1445827045067),
    ('"1445827045067"', 1445827045067), (str(BIGINT - 1), BIGINT - 1), ("0", None),
])
def test_events_sane_timestamps_are_read(stamp, expected):
    text = json.dumps(TICKET)[:-1] + f', "TimeStamp": {stamp}}}'
    assert one(text).timestamp_ms == expected


def test_events_sync_gmt_modified_infinity_falls_back_to_gmt_create():
    data = json.dumps({"syncAction": "org_suite_auth"})
    text = sync(row(4, data, gmt=100)).replace('"gmt_modified": 100', '"gmt_modified": Infinity')
    event = one(text)
    assert (event.kind, event.timestamp_ms, event.corp_id) == ("org_suite_auth", 100, CORP)
    both = text.replace('"gmt_create": 100', '"gmt_create": NaN')
    assert one(both).timestamp_ms is None and one(both).kind == "org_suite_auth"


def test_events_huge_numbers_in_ids_and_agent_ids_are_absent():
    data = {"syncAction": "org_micro_app_stop", "agentId": 10**30, "AppId": float("inf")}
    event = one(sync(row(7, json.dumps(data), biz_id=str(10**30))))
    assert (event.kind, event.agent_id, event.app_id) == ("app_stop", None, None)
    sane(event)


def deep(levels: int, leaf=None):
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("text", [
    "[" * 100_000,
    '{"EventType": "check_url", "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
    '{"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [' + "[" * 50_000 + "]" * 50_000 + "]}",
])
def test_events_nesting_too_deep_for_json_is_unknown(text):
    evs = parse_callback(text)
    assert evs and all(isinstance(e, UnknownEvent) for e in evs)
    for event in evs:
        sane(event)
        json.dumps(event.raw)


def test_events_deep_values_keep_the_event():
    payload = {"EventType": "change_auth", "AuthCorpId": deep(900), "SuiteKey": "suiteA",
               "x": deep(900, {"y": 1})}
    event = one(json.dumps(payload))
    assert (event.kind, event.corp_id, event.suite_key) == ("change_auth", None, "suiteA")
    sane(event)


def test_events_dicts_too_deep_to_serialise_never_raise():
    payload = {"EventType": "change_auth", "AuthCorpId": "dingA", "x": deep(5000)}
    event = one(payload)
    assert (event.kind, event.corp_id) == ("change_auth", "dingA")
    assert event.dedupe_key == one(dict(payload)).dedupe_key
    rows = [{"biz_type": 4, "corp_id": "dingA", "biz_data": deep(5000)}, deep(5000)]
    evs = parse_callback({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": rows})
    assert len(evs) == 2 and all(isinstance(e, UnknownEvent) for e in evs)
    for event in evs:
        sane(event)
    assert isinstance(one(deep(5000)), UnknownEvent)


def test_events_non_string_keys_in_a_dict_never_raise():
    payload = {1: "a", None: 2, "EventType": "change_auth", "AuthCorpId": "dingA",
               (1, 2): "t"}
    event = one(payload)
    assert (event.kind, event.corp_id) == ("change_auth", "dingA")
    assert event.dedupe_key == one(dict(payload)).dedupe_key
    sane(event)


@pytest.mark.parametrize("bad", [
    ["dingA"], {"id": "dingA"}, True, 1.5, "", "d" * 256, "ding\x00A", "\ud800", 10**30,
])
def test_events_ids_that_are_not_sane_strings_are_absent(bad):
    payload = {"EventType": "tmp_auth_code", "AuthCorpId": bad, "SuiteKey": bad,
               "AuthCode": bad, "TimeStamp": 5}
    event = one(payload)
    assert (event.kind, event.corp_id, event.suite_key, event.auth_code) == (
        "tmp_auth_code", None, None, "")
    sane(event)


def test_events_integer_ids_become_strings_and_insane_contact_ids_are_dropped():
    payload = {"EventType": "user_add_org", "CorpId": 123,
               "UserId": ["u1", "u\x00x", 7, None, ["nested"], "u" * 300, "\udcff", "u2"]}
    event = one(payload)
    assert (event.corp_id, event.ids) == ("123", ("u1", "7", "u2"))
    sane(event)


@pytest.mark.parametrize("event_type", ["x\x00", "e" * 10_000, "bad\ud800"])
def test_events_insane_event_types_are_unknown(event_type):
    event = one(json.dumps({"EventType": event_type, "AuthCorpId": "dingA"}))
    assert isinstance(event, UnknownEvent) and event.corp_id == "dingA"
    sane(event)


def test_events_huge_strings_keep_the_key_bounded():
    huge = "z" * 2_000_000
    event = one(json.dumps({"EventType": "suite_ticket", "SuiteTicket": huge, "SuiteKey": huge,
                            "AuthCorpId": huge, "TimeStamp": 1}))
    assert (event.ticket, event.suite_key, event.corp_id, event.timestamp_ms) == ("", None,
                                                                                  None, 1)
    sane(event)


hostile_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
    | st.sampled_from(["\x00", "\ud800", "ding\x00", "9" * 30, "Infinity", "-0", "١"])
)
hostile_json = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["EventType", "bizData", "biz_type", "biz_data", "syncAction",
                         "TimeStamp", "EventTime", "corp_id", "AuthCorpId", "SuiteKey",
                         "SuiteTicket", "AuthCode", "UserId", "DeptId", "gmt_modified",
                         "gmt_create", "biz_id", "id", "subscribe_id", "agentId", "AppId",
                         "orderId", "x"]) | st.text(max_size=4), children, max_size=6),
    max_leaves=20,
)
event_names = st.sampled_from(
    ["suite_ticket", "tmp_auth_code", "check_url", "market_buy", "change_auth",
     "SYNC_HTTP_PUSH_HIGH", *sorted(events_module.SYNC_ACTIONS),
     *sorted(events_module.CONTACT_ACTIONS)])


@settings(max_examples=300, deadline=None)
@given(event_names, st.dictionaries(st.text(max_size=12), hostile_json, max_size=6),
       hostile_json)
def test_events_hostile_json_never_raises_and_stays_storable(name, fields, extra):
    payload = {**fields, "EventType": name, "bizData": [extra, {"biz_data": json.dumps(
        {"syncAction": name, **fields}), **fields}] if name.startswith("SYNC") else extra}
    for document in (json.dumps(payload), payload):
        for event in parse_callback(document):
            sane(event)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers() | st.none() | st.text(max_size=3) | st.tuples(
    st.integers()), hostile_json, max_size=5), event_names)
def test_events_dicts_with_any_keys_never_raise(fields, name):
    for event in parse_callback({**fields, "EventType": name}):
        sane(event)
