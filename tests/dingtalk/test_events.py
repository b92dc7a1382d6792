"""Tests for parse_callback: HTTP-push EventTypes, SyncHTTP rows, unknowns, dedupe keys."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dingtalk.events as events_module
from dingtalk.events import (
    AppStateEvent,
    AuthChangeEvent,
    ContactEvent,
    CorpUpdateEvent,
    LicenseCodeEvent,
    MarketOrderEvent,
    OrgSuiteAuthEvent,
    SuiteRelieveEvent,
    SuiteTicketEvent,
    TmpAuthCodeEvent,
    UnknownEvent,
    UrlCheckEvent,
    parse_callback,
)

CORP = "ding2f5d5f95e46aa503ffe9347xxxx"


def one(payload):
    events = parse_callback(payload)
    assert len(events) == 1
    return events[0]


def row(biz_type, biz_data, *, biz_id="1489999001", corp_id=CORP, gmt=1608639648000, id_=7001):
    return {
        "gmt_create": gmt, "biz_type": biz_type, "open_cursor": 0,
        "subscribe_id": "14999999001_0", "id": id_, "gmt_modified": gmt, "biz_id": biz_id,
        "biz_data": biz_data if isinstance(biz_data, str) else json.dumps(biz_data),
        "corp_id": corp_id, "status": 0,
    }


def sync(*rows, level="HIGH"):
    return json.dumps({"EventType": f"SYNC_HTTP_PUSH_{level}", "bizData": list(rows)})


# HTTP push ----------------------------------------------------------------------------------


def test_events_http_check_create_suite_url():
    event = one('{"EventType":"check_create_suite_url","Random":"LPIdSnlF",'
                '"TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}')
    assert isinstance(event, UrlCheckEvent)
    assert (event.kind, event.random, event.test_suite_key) == (
        "check_create_suite_url", "LPIdSnlF", "suite4xxxxxxxxxxxxxxx")


@pytest.mark.parametrize("kind", ["check_url", "check_update_suite_url"])
def test_events_http_url_checks(kind):
    event = one({"EventType": kind, "Random": "r1"})
    assert isinstance(event, UrlCheckEvent) and event.kind == kind


def test_events_http_suite_ticket():
    event = one('{"SuiteKey":"suitexxxxxx","EventType":"suite_ticket","TimeStamp":1234456,'
                '"SuiteTicket":"adsadsad"}')
    assert isinstance(event, SuiteTicketEvent)
    assert (event.kind, event.ticket, event.suite_key, event.timestamp_ms) == (
        "suite_ticket", "adsadsad", "suitexxxxxx", 1234456)
    assert "adsadsad" not in repr(event)


def test_events_http_tmp_auth_code():
    event = one({"TimeStamp": 1553709079062, "AuthCode": "80dc451ddc173da686f7e1492axxxx",
                 "AuthCorpId": CORP, "EventType": "tmp_auth_code",
                 "SuiteKey": "suitefcurkdvkc1ncxxxx"})
    assert isinstance(event, TmpAuthCodeEvent)
    assert (event.auth_code, event.corp_id, event.timestamp_ms) == (
        "80dc451ddc173da686f7e1492axxxx", CORP, 1553709079062)
    assert "80dc451ddc" not in repr(event)


def test_events_http_change_auth_and_relieve():
    change = one({"SuiteKey": "s", "EventType": "change_auth", "TimeStamp": 123456,
                  "AuthCorpId": "dingA"})
    relieve = one({"EventType": "suite_relieve", "SuiteKey": "s", "TimeStamp": "12351458245",
                   "AuthCorpId": "dingA"})
    assert isinstance(change, AuthChangeEvent) and change.kind == "change_auth"
    assert isinstance(relieve, SuiteRelieveEvent) and relieve.kind == "suite_relieve"
    assert relieve.timestamp_ms == 12351458245 and relieve.corp_id == "dingA"


def test_events_http_license_code():
    event = one({"EventType": "check_suite_license_code", "TimeStamp": 15481221,
                 "SuiteKey": "s", "AuthCorpId": "dingA", "LicenseCode": "LC1"})
    assert isinstance(event, LicenseCodeEvent) and event.license_code == "LC1"


@pytest.mark.parametrize(("event_type", "action"), [
    ("org_micro_app_stop", "stop"), ("org_micro_app_restore", "restore"),
    ("org_micro_app_remove", "remove"),
])
def test_events_http_app_state(event_type, action):
    event = one({"AgentId": 123, "AppId": 456, "AuthCorpId": "dingA", "EventType": event_type,
                 "SuiteKey": "s", "TimeStamp": 1481173967075})
    assert isinstance(event, AppStateEvent)
    assert (event.kind, event.action, event.agent_id, event.app_id) == (
        f"app_{action}", action, 123, 456)


def test_events_http_market_buy():
    event = one({"SuiteKey": "s", "EventType": "market_buy", "orderId": 998,
                 "corpId": "dingA", "goodsCode": "G", "payFee": 100})
    assert isinstance(event, MarketOrderEvent)
    assert (event.kind, event.order_id, event.corp_id, event.data["goodsCode"]) == (
        "market_order", "998", "dingA", "G")


def test_events_http_contact_events_old_and_new_format():
    user = one({"EventType": "user_add_org", "TimeStamp": 43535463645,
                "UserId": ["efefef", "111111"], "CorpId": "corpid"})
    assert isinstance(user, ContactEvent)
    assert (user.kind, user.object_type, user.action, user.ids, user.corp_id) == (
        "contact_user", "user", "add", ("efefef", "111111"), "corpid")
    dept = one({"EventType": "org_dept_create", "EventTime": 1663143335567,
                "CorpId": "dingA", "BizId": "b", "eventId": "e", "deptId": [432825033]})
    assert (dept.kind, dept.action, dept.ids, dept.timestamp_ms) == (
        "contact_dept", "create", ("432825033",), 1663143335567)


def test_events_http_org_remove_is_corp_event():
    event = one({"EventType": "org_remove", "TimeStamp": 1, "CorpId": "dingA"})
    assert isinstance(event, CorpUpdateEvent) and event.kind == "corp_remove"


# SyncHTTP -----------------------------------------------------------------------------------


def test_events_sync_ticket_and_suite_id():
    event = one(sync(row(2, {"syncAction": "suite_ticket", "suiteTicket": "T-1"},
                         biz_id="14999999001")))
    assert isinstance(event, SuiteTicketEvent)
    assert (event.ticket, event.suite_id, event.timestamp_ms) == (
        "T-1", "14999999001", 1608639648000)


@pytest.mark.parametrize(("action", "short"), [
    ("org_suite_auth", "auth"), ("org_suite_change", "change"),
    ("org_suite_relieve", "relieve"),
])
def test_events_sync_org_suite_auth(action, short):
    data = {"syncAction": action, "auth_corp_info": {"corpid": CORP, "corp_name": "Acme"},
            "auth_info": {"agent": [{"agentid": 1, "appid": 2}]}, "permanent_code": "PERM"}
    if short == "relieve":
        data = {"syncAction": action}
    event = one(sync(row(4, data)))
    assert isinstance(event, OrgSuiteAuthEvent)
    assert (event.kind, event.action, event.corp_id) == (action, short, CORP)
    assert event.auth_info == data
    assert "PERM" not in repr(event)


@pytest.mark.parametrize("action", ["stop", "restore", "remove", "scope_update"])
def test_events_sync_app_state(action):
    event = one(sync(row(7, {"agentId": 12345677, "syncAction": f"org_micro_app_{action}"},
                         biz_id="53642")))
    assert isinstance(event, AppStateEvent)
    assert (event.kind, event.action, event.agent_id, event.app_id) == (
        f"app_{action}", action, 12345677, 53642)


def test_events_sync_contacts():
    user = one(sync(row(13, {"syncAction": "user_add_org", "userid": "u1", "name": "N"},
                        biz_id="u1"), level="MEDIUM"))
    leave = one(sync(row(13, {"syncAction": "user_leave_org"}, biz_id="u2")))
    dept = one(sync(row(14, {"syncAction": "org_dept_remove"}, biz_id="42")))
    role = one(sync(row(15, {"syncAction": "org_role_add", "role_id": 9}, biz_id="9")))
    assert (user.kind, user.action, user.ids, user.data["name"]) == (
        "contact_user", "add", ("u1",), "N")
    assert (leave.action, leave.ids) == ("leave", ("u2",))
    assert (dept.kind, dept.action, dept.ids) == ("contact_dept", "remove", ("42",))
    assert (role.kind, role.object_type) == ("contact_role", "role")


def test_events_sync_corp_and_market():
    corp = one(sync(row(16, {"syncAction": "org_update", "corp_name": "New"}, biz_id=CORP)))
    assert isinstance(corp, CorpUpdateEvent)
    assert (corp.kind, corp.action, corp.data["corp_name"]) == ("corp_update", "update", "New")
    order = one(sync(row(17, {"syncAction": "market_order", "orderId": 77,
                              "suiteKey": "suiteK"}, biz_id="77")))
    assert isinstance(order, MarketOrderEvent)
    assert (order.order_id, order.suite_key) == ("77", "suiteK")


def test_events_sync_one_event_per_row():
    evs = parse_callback(sync(
        row(2, {"syncAction": "suite_ticket", "suiteTicket": "T"}, id_=1),
        row(4, {"syncAction": "org_suite_auth"}, id_=2),
        row(99, {"syncAction": "something_new"}, id_=3),
    ))
    assert [type(e) for e in evs] == [SuiteTicketEvent, OrgSuiteAuthEvent, UnknownEvent]
    assert len({e.dedupe_key for e in evs}) == 3
    assert evs[2].biz_type == 99


def test_events_sync_biz_data_already_decoded():
    r = row(2, "{}")
    r["biz_data"] = {"syncAction": "suite_ticket", "suiteTicket": "T"}
    assert one(sync(r)).ticket == "T"


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
