"""gettoken, get_suite_token and the token checks every authenticated endpoint makes."""

import requests
from emulator_helpers import get, internal_app, post


def test_gettoken_same_token_until_expiry_and_refetch_extends(emulator):
    corp, app, token = internal_app(emulator)
    emulator.advance(7000)
    again = get(emulator, "gettoken", appkey=app["appkey"], appsecret=app["appsecret"])
    assert again["access_token"] == token and again["expires_in"] == 7200
    emulator.advance(7000)  # 14000 s after the first fetch, 7000 s after the extension
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 0


def test_gettoken_new_token_after_expiry(emulator):
    corp, app, token = internal_app(emulator)
    emulator.advance(7201)
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 40014
    fresh = get(emulator, "gettoken", appkey=app["appkey"], appsecret=app["appsecret"])
    assert fresh["access_token"] != token
    assert get(emulator, "user/get", fresh["access_token"],
               userid=corp["userids"][0])["errcode"] == 0


def test_token_valid_until_7200_seconds(emulator):
    corp, _, token = internal_app(emulator)
    emulator.advance(7199)
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 0
    emulator.advance(2)
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 40014


def test_expired_token_errcode_configurable_42001(emulator):
    corp, _, token = internal_app(emulator)
    emulator.set_config(expired_token_errcode=42001)
    emulator.advance(7300)
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 42001


def test_gettoken_wrong_credentials_40089(emulator):
    _, app, _ = internal_app(emulator)
    assert get(emulator, "gettoken", appkey=app["appkey"], appsecret="nope")["errcode"] == 40089
    assert get(emulator, "gettoken", appkey="unknown", appsecret="x")["errcode"] == 40089
    assert get(emulator, "gettoken")["errcode"] == 40035


def test_gettoken_legacy_corpid_corpsecret(emulator):
    corp = emulator.create_corp(users=5)
    body = get(emulator, "gettoken", corpid=corp["corp_id"], corpsecret=corp["corpsecret"])
    assert body["errcode"] == 0
    user = get(emulator, "user/get", body["access_token"], userid=corp["userids"][1])
    assert user["userid"] == corp["userids"][1]
    bad = get(emulator, "gettoken", corpid=corp["corp_id"], corpsecret="wrong")
    assert bad["errcode"] == 40089


def test_missing_unknown_token_41001_40014(emulator):
    corp, _, _ = internal_app(emulator)
    assert get(emulator, "user/get", userid=corp["userids"][0])["errcode"] == 41001
    assert get(emulator, "user/get", "bogus", userid=corp["userids"][0])["errcode"] == 40014


def test_forced_expiry_by_control_api(emulator):
    corp, app, token = internal_app(emulator)
    assert emulator.expire_tokens(appkey=app["appkey"]) == 1
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 40014


def test_token_of_corp_a_never_reads_corp_b(emulator):
    corp_a, _, token_a = internal_app(emulator)
    corp_b = emulator.create_corp(users=5)
    assert get(emulator, "user/get", token_a, userid=corp_b["userids"][2])["errcode"] == 60121
    ids_a = get(emulator, "department/list_ids", token_a, id=1)["sub_dept_id_list"]
    ids_b = emulator.get_corp(corp_b["corp_id"], users=False)["dept_ids"]
    assert set(ids_a).isdisjoint(set(ids_b) - {1})


def test_gettoken_counted_per_appkey(emulator):
    _, app, _ = internal_app(emulator)
    get(emulator, "gettoken", appkey=app["appkey"], appsecret=app["appsecret"])
    get(emulator, "gettoken", appkey=app["appkey"], appsecret="bad")
    assert emulator.counters()["token_fetches"]["gettoken"] == {app["appkey"]: 2}


def _suite_body(emulator, suite, **override):
    body = {"suite_key": suite["suite_key"], "suite_secret": suite["suite_secret"],
            "suite_ticket": emulator.current_ticket(suite["suite_key"])}
    body.update(override)
    return {k: v for k, v in body.items() if v is not None}


def test_get_suite_token_ok(emulator):
    suite = emulator.create_suite()
    body = post(emulator, "service/get_suite_token", body=_suite_body(emulator, suite))
    assert body["errcode"] == 0 and body["expires_in"] == 7200
    assert len(body["suite_access_token"]) >= 16
    assert emulator.counters()["token_fetches"]["get_suite_token"] == {suite["suite_key"]: 1}


def test_get_suite_token_errors(emulator):
    suite = emulator.create_suite()
    call = lambda **o: post(emulator, "service/get_suite_token",  # noqa: E731
                            body=_suite_body(emulator, suite, **o))["errcode"]
    assert call(suite_key="suiteunknown") == 40088
    assert call(suite_secret="wrong") == 40080
    assert call(suite_ticket="stale") == 40085
    assert call(suite_key=None) == 41021
    assert call(suite_secret=None) == 41024
    assert call(suite_ticket=None) == 41023


def test_superseded_ticket_40085(emulator):
    suite = emulator.create_suite()
    old = emulator.current_ticket(suite["suite_key"])
    new = emulator.push_ticket(suite["suite_key"])
    assert new != old and emulator.current_ticket(suite["suite_key"]) == new
    body = post(emulator, "service/get_suite_token", body=_suite_body(emulator, suite,
                                                                      suite_ticket=old))
    assert body["errcode"] == 40085
    body = post(emulator, "service/get_suite_token", body=_suite_body(emulator, suite))
    assert body["errcode"] == 0


def test_any_ticket_accepted_when_configured(emulator):
    suite = emulator.create_suite()
    emulator.set_config(accept_any_ticket=True)
    body = post(emulator, "service/get_suite_token",
                body=_suite_body(emulator, suite, suite_ticket="TestSuiteTicket"))
    assert body["errcode"] == 0


def test_suite_token_is_not_an_access_token(emulator):
    corp = emulator.create_corp(users=3)
    suite = emulator.create_suite()
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    stoken = post(emulator, "service/get_suite_token",
                  body=_suite_body(emulator, suite))["suite_access_token"]
    assert get(emulator, "user/get", stoken, userid=corp["userids"][0])["errcode"] == 40014


def test_access_token_in_form_body(emulator):
    corp, _, token = internal_app(emulator)
    response = requests.post(f"{emulator.base_url}/topapi/v2/user/get",
                             data={"access_token": token, "userid": corp["userids"][0]},
                             timeout=10)
    assert response.json()["result"]["userid"] == corp["userids"][0]
