"""parse_callback: every HTTP-push EventType and SyncHTTP biz_type into its typed event."""

import json

import pytest

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
    gone = one(sync(row(16, {"syncAction": "org_remove"}, biz_id=CORP), level="MEDIUM"))
    assert isinstance(gone, CorpUpdateEvent)
    assert (gone.kind, gone.action, gone.corp_id) == ("corp_remove", "remove", CORP)
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
