"""What is pushed: HTTP EventTypes, SyncHTTP rows, URL checks, the ticket schedule."""

import json

import requests
from pusher_helpers import FAST, make_suite, settled

from dingtalk.crypto import CREATE_SUITE_KEY
from dingtalk.events import parse_callback


def test_pusher_http_events_for_auth_lifecycle_in_order(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver)
    key, corp_id = suite["suite_key"], corp["corp_id"]
    record = emulator.authorize(key, corp_id)
    emulator.change_auth(key, corp_id, authed_dept=[1])
    emulator.app_state(key, corp_id, "stop")
    emulator.relieve(key, corp_id)
    payloads = [p["payload"] for p in receiver.wait_for(4)]
    assert [p["EventType"] for p in payloads] == [
        "tmp_auth_code", "change_auth", "org_micro_app_stop", "suite_relieve"]
    assert payloads[0]["AuthCode"] == record["tmp_auth_code"]
    assert all(p["AuthCorpId"] == corp_id and p["SuiteKey"] == key for p in payloads)
    assert payloads[2]["AgentId"] == record["agent_id"]
    settled(emulator, key, count=4)


def test_pusher_sync_http_rows(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    key, corp_id = suite["suite_key"], corp["corp_id"]
    record = emulator.authorize(key, corp_id)
    emulator.relieve(key, corp_id)
    first, second = (p["payload"] for p in receiver.wait_for(2))
    assert first["EventType"] == "SYNC_HTTP_PUSH_HIGH"
    [row] = first["bizData"]
    assert set(row) == {"id", "gmt_create", "gmt_modified", "subscribe_id", "corp_id", "biz_id",
                        "biz_type", "biz_data", "open_cursor", "status"}
    assert row["subscribe_id"] == f"{suite['suite_id']}_0" and row["biz_type"] == 4
    assert row["corp_id"] == corp_id and row["status"] == 0 and row["open_cursor"] == 0
    biz = json.loads(row["biz_data"])
    assert biz["syncAction"] == "org_suite_auth"
    assert biz["auth_corp_info"]["corpid"] == corp_id
    assert biz["auth_info"]["agent"][0]["agentid"] == record["agent_id"]
    assert biz["auth_scope"]["auth_org_scopes"]["authed_dept"] == [1]
    assert json.loads(second["bizData"][0]["biz_data"]) == {"syncAction": "org_suite_relieve"}
    assert second["bizData"][0]["id"] > row["id"]
    [event] = parse_callback(first)
    assert event.kind == "org_suite_auth" and event.corp_id == corp_id


def test_pusher_sync_http_contact_and_corp_rows(emulator, receiver):
    corp = emulator.create_corp(users=5)
    suite = make_suite(emulator, receiver, push_style="sync_http")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    receiver.wait_for(1)
    emulator.contact_change(corp["corp_id"], "user_add_org", user={"userid": "newbie"})
    emulator.corp_update(corp["corp_id"], name="Renamed")
    user_push, corp_push = (p["payload"] for p in receiver.wait_for(3)[1:])
    assert user_push["EventType"] == "SYNC_HTTP_PUSH_MEDIUM"
    row = user_push["bizData"][0]
    assert row["biz_type"] == 13 and row["biz_id"] == "newbie"
    assert json.loads(row["biz_data"])["syncAction"] == "user_add_org"
    corp_row = corp_push["bizData"][0]
    assert corp_row["biz_type"] == 16
    assert json.loads(corp_row["biz_data"])["corp_name"] == "Renamed"


def test_pusher_sync_http_ticket_row(emulator, receiver):
    suite = make_suite(emulator, receiver, push_style="sync_http")
    ticket = emulator.push_ticket(suite["suite_key"])
    row = receiver.wait_for(1)[0]["payload"]["bizData"][0]
    assert row["biz_type"] == 2 and row["biz_id"] == str(suite["suite_id"])
    assert json.loads(row["biz_data"])["suiteTicket"] == ticket


def test_pusher_legacy_url_check_accepts_the_random_reply(emulator, receiver):
    suite = make_suite(emulator, receiver, legacy_url_check=True, then="random")
    url = f"{emulator.base_url}/_emulator/suites/{suite['suite_key']}/check_url"
    answer = requests.post(url, json={"kind": "create"}).json()
    push = receiver.wait_for(1)[0]
    assert push["key"] == CREATE_SUITE_KEY
    assert push["payload"] == {"EventType": "check_create_suite_url", "Random": answer["random"],
                               "TestSuiteKey": CREATE_SUITE_KEY}
    [record] = settled(emulator, suite["suite_key"])
    assert record["acknowledged"] is True


def test_pusher_random_reply_is_wrong_outside_legacy_mode(emulator, receiver):
    emulator.set_config(pusher=FAST)
    suite = make_suite(emulator, receiver, modes=["random"])
    url = f"{emulator.base_url}/_emulator/suites/{suite['suite_key']}/check_url"
    requests.post(url, json={"kind": "update"})
    [record] = settled(emulator, suite["suite_key"])
    assert record["attempts"] == 2 and record["event"] == "check_update_suite_url"


def test_pusher_ticket_schedule_follows_the_emulated_clock(emulator, receiver):
    emulator.set_config(pusher={"ticket_interval_s": 600})
    suite = make_suite(emulator, receiver)
    old = emulator.current_ticket(suite["suite_key"])
    emulator.advance(601)
    push = receiver.wait_for(1)[0]["payload"]
    assert push["EventType"] == "suite_ticket" and push["SuiteTicket"] != old
    assert emulator.current_ticket(suite["suite_key"]) == push["SuiteTicket"]
