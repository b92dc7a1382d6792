"""ISV service/* endpoints: both get_corp_token forms, signatures, permanent codes, auth info."""

import time

from emulator_helpers import (
    corp_token_signed,
    get,
    isv_app,
    post,
    signature_params,
    suite_token,
)


def _setup(emulator, *, push_style="sync_http"):
    corp = emulator.create_corp(users=20)
    suite = emulator.create_suite(push_style=push_style)
    record = emulator.authorize(suite["suite_key"], corp["corp_id"])
    return corp, suite, record


def _signed(emulator, suite, corp_id, path="service/get_corp_token", **override):
    params = signature_params(suite, emulator.current_ticket(suite["suite_key"]))
    params.update(override)
    return post(emulator, path, body={"auth_corpid": corp_id, "suite_key": suite["suite_key"]},
                **params)


def test_signed_corp_token_works_on_contacts(emulator):
    corp, suite, _, token = isv_app(emulator)
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 0
    key = f"{suite['suite_key']}:{corp['corp_id']}"
    assert emulator.counters()["token_fetches"]["get_corp_token"] == {key: 1}


def test_signature_timestamp_not_numeric_853001(emulator):
    corp, suite, _ = _setup(emulator)
    assert _signed(emulator, suite, corp["corp_id"], timestamp="abc")["errcode"] == 853001


def test_signature_timestamp_window_853002(emulator):
    corp, suite, _ = _setup(emulator)
    ticket = emulator.current_ticket(suite["suite_key"])
    for offset in (-61_000, 61_000):
        params = signature_params(suite, ticket, timestamp=int(time.time() * 1000) + offset)
        body = post(emulator, "service/get_corp_token", body={"auth_corpid": corp["corp_id"]},
                    **params)
        assert body["errcode"] == 853002
    params = signature_params(suite, ticket, timestamp=int(time.time() * 1000) - 30_000)
    assert post(emulator, "service/get_corp_token", body={"auth_corpid": corp["corp_id"]},
                **params)["errcode"] == 0


def test_signature_window_uses_real_clock_not_emulated(emulator):
    corp, suite, _ = _setup(emulator)
    emulator.advance(3 * 3600)
    assert corp_token_signed(emulator, suite, corp["corp_id"])["errcode"] == 0


def test_signature_unknown_access_key_853003(emulator):
    corp, suite, _ = _setup(emulator)
    assert _signed(emulator, suite, corp["corp_id"], accessKey="suitenope")["errcode"] == 853003


def test_signature_mismatch_853004(emulator):
    corp, suite, _ = _setup(emulator)
    ticket = emulator.current_ticket(suite["suite_key"])
    params = signature_params(suite, ticket, secret="not-the-secret")
    body = post(emulator, "service/get_corp_token", body={"auth_corpid": corp["corp_id"]},
                **params)
    assert body["errcode"] == 853004


def test_signature_stale_ticket_40085_configurable(emulator):
    corp, suite, _ = _setup(emulator)
    old = emulator.current_ticket(suite["suite_key"])
    emulator.push_ticket(suite["suite_key"])
    params = signature_params(suite, old)
    call = lambda: post(emulator, "service/get_corp_token",  # noqa: E731
                        body={"auth_corpid": corp["corp_id"]}, **params)["errcode"]
    assert call() == 40085
    emulator.set_config(stale_ticket_errcode=853004)
    assert call() == 853004


def test_corp_not_authorised_40079(emulator):
    corp, suite, _ = _setup(emulator)
    other = emulator.create_corp(users=2)
    assert _signed(emulator, suite, other["corp_id"])["errcode"] == 40079
    body = post(emulator, "service/get_corp_token", body={},
                **signature_params(suite, emulator.current_ticket(suite["suite_key"])))
    assert body["errcode"] == 41027


def test_new_corp_token_each_call_old_stays_valid(emulator):
    corp, suite, _ = _setup(emulator)
    first = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    second = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    assert first != second
    for token in (first, second):
        assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 0


def test_old_corp_token_dies_when_configured(emulator):
    corp, suite, _ = _setup(emulator)
    emulator.set_config(keep_old_corp_tokens=False)
    first = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    corp_token_signed(emulator, suite, corp["corp_id"])
    assert get(emulator, "user/get", first, userid=corp["userids"][0])["errcode"] == 40014


def test_suite_corp_token_does_not_cross_suites(emulator):
    corp, suite_a, _ = _setup(emulator)
    suite_b = emulator.create_suite()
    other = emulator.create_corp(users=3)
    emulator.authorize(suite_b["suite_key"], other["corp_id"])
    # suite A's signature cannot mint a token for the corp that only authorised B
    assert _signed(emulator, suite_a, other["corp_id"])["errcode"] == 40079


def test_legacy_flow_permanent_code_activate_corp_token(emulator):
    corp, suite, record = _setup(emulator, push_style="http")
    stoken = suite_token(emulator, suite)
    code = post(emulator, "service/get_permanent_code", body={
        "tmp_auth_code": record["tmp_auth_code"]}, suite_access_token=stoken)
    assert code["permanent_code"] == record["permanent_code"]
    assert code["auth_corp_info"] == {"corpid": corp["corp_id"], "corp_name": corp["name"]}
    again = post(emulator, "service/get_permanent_code", body={
        "tmp_auth_code": record["tmp_auth_code"]}, suite_access_token=stoken)
    assert again["errcode"] == 42008
    unknown = post(emulator, "service/get_permanent_code", body={"tmp_auth_code": "nope"},
                   suite_access_token=stoken)
    assert unknown["errcode"] == 40078
    missing = post(emulator, "service/get_permanent_code", body={}, suite_access_token=stoken)
    assert missing["errcode"] == 41026
    agent = {"agentid": record["agent_id"], "auth_corpid": corp["corp_id"],
             "suite_key": suite["suite_key"]}
    assert post(emulator, "service/get_agent", body=agent,
                suite_access_token=stoken)["close"] == 2
    activate = post(emulator, "service/activate_suite", suite_access_token=stoken, body={
        "suite_key": suite["suite_key"], "auth_corpid": corp["corp_id"],
        "permanent_code": code["permanent_code"]})
    assert activate == {"errcode": 0, "errmsg": "ok"}
    assert post(emulator, "service/get_agent", body=agent,
                suite_access_token=stoken)["close"] == 1
    token = post(emulator, "service/get_corp_token", suite_access_token=stoken, body={
        "auth_corpid": corp["corp_id"], "permanent_code": code["permanent_code"]})
    assert get(emulator, "user/get", token["access_token"],
               userid=corp["userids"][0])["errcode"] == 0


def test_legacy_corp_token_errors(emulator):
    corp, suite, record = _setup(emulator, push_style="http")
    stoken = suite_token(emulator, suite)
    wrong = post(emulator, "service/get_corp_token", suite_access_token=stoken, body={
        "auth_corpid": corp["corp_id"], "permanent_code": "other"})
    assert wrong["errcode"] == 41031
    missing = post(emulator, "service/get_corp_token", suite_access_token=stoken, body={
        "auth_corpid": corp["corp_id"]})
    assert missing["errcode"] == 41025
    bad_token = post(emulator, "service/get_corp_token", suite_access_token="bogus", body={
        "auth_corpid": corp["corp_id"], "permanent_code": record["permanent_code"]})
    assert bad_token["errcode"] == 40014
    no_cred = post(emulator, "service/get_corp_token", body={"auth_corpid": corp["corp_id"]})
    assert no_cred["errcode"] == 41001


def test_activate_suite_errors(emulator):
    corp, suite, record = _setup(emulator, push_style="http")
    stoken = suite_token(emulator, suite)
    other = emulator.create_corp(users=1)
    body = {"suite_key": suite["suite_key"], "auth_corpid": other["corp_id"],
            "permanent_code": record["permanent_code"]}
    assert post(emulator, "service/activate_suite", suite_access_token=stoken,
                body=body)["errcode"] == 41030
    body["auth_corpid"] = corp["corp_id"]
    body["permanent_code"] = "wrong"
    assert post(emulator, "service/activate_suite", suite_access_token=stoken,
                body=body)["errcode"] == 41031
    body["permanent_code"] = record["permanent_code"]
    other_suite = emulator.create_suite()
    assert post(emulator, "service/activate_suite", suite_access_token=stoken,
                body={**body, "suite_key": other_suite["suite_key"]})["errcode"] == 40083
    assert post(emulator, "service/activate_suite", suite_access_token=stoken,
                body={**body, "suite_key": ""})["errcode"] == 41021


def test_relieve_kills_tokens_and_permanent_code(emulator):
    corp, suite, record, token = isv_app(emulator)
    stoken = suite_token(emulator, suite)
    emulator.relieve(suite["suite_key"], corp["corp_id"])
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 40014
    assert corp_token_signed(emulator, suite, corp["corp_id"])["errcode"] == 40079
    legacy = post(emulator, "service/get_corp_token", suite_access_token=stoken, body={
        "auth_corpid": corp["corp_id"], "permanent_code": record["permanent_code"]})
    assert legacy["errcode"] == 40079
    code = post(emulator, "service/get_permanent_code", suite_access_token=stoken,
                body={"tmp_auth_code": record["tmp_auth_code"]})
    assert code["errcode"] == 40078


def test_reauthorise_issues_new_permanent_code(emulator):
    corp, suite, record = _setup(emulator)
    emulator.relieve(suite["suite_key"], corp["corp_id"])
    again = emulator.authorize(suite["suite_key"], corp["corp_id"])
    assert again["permanent_code"] != record["permanent_code"]
    assert again["agent_id"] == record["agent_id"]
    assert corp_token_signed(emulator, suite, corp["corp_id"])["errcode"] == 0


def test_get_auth_info_signature_and_legacy(emulator):
    corp, suite, record = _setup(emulator)
    body = _signed(emulator, suite, corp["corp_id"], path="service/get_auth_info")
    assert body["errcode"] == 0
    assert body["auth_corp_info"]["corpid"] == corp["corp_id"]
    assert body["auth_corp_info"]["corp_name"] == corp["name"]
    agent = body["auth_info"]["agent"][0]
    assert agent["agentid"] == record["agent_id"] and agent["appid"] == record["app_id"]
    assert isinstance(agent["admin_list"], list)
    assert "userId" in body["auth_user_info"]
    legacy = post(emulator, "service/get_auth_info", suite_access_token=suite_token(
        emulator, suite), body={"auth_corpid": corp["corp_id"], "suite_key": suite["suite_key"],
                                "permanent_code": record["permanent_code"]})
    assert legacy["auth_info"] == body["auth_info"]
    assert _signed(emulator, suite, corp["corp_id"], path="service/get_auth_info",
                   signature="AAAA")["errcode"] == 853004
    foreign = post(emulator, "service/get_auth_info", suite_access_token=suite_token(
        emulator, suite), body={"auth_corpid": corp["corp_id"], "suite_key": "suiteother"})
    assert foreign["errcode"] == 40083


def test_agent_ids_differ_per_corp(emulator):
    suite = emulator.create_suite()
    a, b = emulator.create_corp(users=2), emulator.create_corp(users=2)
    ra = emulator.authorize(suite["suite_key"], a["corp_id"])
    rb = emulator.authorize(suite["suite_key"], b["corp_id"])
    assert ra["agent_id"] != rb["agent_id"]


def test_app_id_is_the_suites_in_every_corp(emulator):
    """appid names the app inside the suite (PROTOCOL 6.4): one value for every corp, which
    get_unactive_corp and reauth_corp take."""
    suite = emulator.create_suite()
    a, b = emulator.create_corp(users=2), emulator.create_corp(users=2)
    ra = emulator.authorize(suite["suite_key"], a["corp_id"])
    rb = emulator.authorize(suite["suite_key"], b["corp_id"])
    assert ra["app_id"] == rb["app_id"] == suite["app_id"] > 0


def test_get_agent_foreign_agent_40056_and_stopped_app(emulator):
    corp, suite, record, token = isv_app(emulator)
    body = {"agentid": record["agent_id"] + 1, "auth_corpid": corp["corp_id"],
            "suite_key": suite["suite_key"]}
    assert _get_agent(emulator, suite, body)["errcode"] == 40056
    emulator.app_state(suite["suite_key"], corp["corp_id"], "stop")
    body["agentid"] = record["agent_id"]
    assert _get_agent(emulator, suite, body)["close"] == 0
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 50003
    emulator.app_state(suite["suite_key"], corp["corp_id"], "restore")
    assert get(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 0


def _get_agent(emulator, suite, body):
    params = signature_params(suite, emulator.current_ticket(suite["suite_key"]))
    params["suite_access_token"] = suite_token(emulator, suite)
    return post(emulator, "service/get_agent", body=body, **params)


def test_get_unactive_corp(emulator):
    corp, suite, record = _setup(emulator, push_style="http")
    stoken = suite_token(emulator, suite)
    body = post(emulator, "service/get_unactive_corp", suite_access_token=stoken,
                body={"app_id": record["app_id"]})
    assert body["corp_list"] == [corp["corp_id"]] and body["has_more"] is False
    assert post(emulator, "service/get_unactive_corp", suite_access_token=stoken,
                body={"app_id": record["app_id"] + 1})["errcode"] == 40086


def test_reauth_corp_pushes_the_authorisation_again(emulator):
    corp, suite, record = _setup(emulator, push_style="http")
    stoken = suite_token(emulator, suite)
    auth_pushes = lambda: [p for p in emulator.pushes(suite_key=suite["suite_key"])  # noqa: E731
                           if p["kind"] == "auth"]
    assert len(auth_pushes()) == 1  # the authorisation itself
    body = post(emulator, "service/reauth_corp", suite_access_token=stoken,
                body={"app_id": record["app_id"], "corpid_list": [corp["corp_id"]]})
    assert body == {"errcode": 0, "errmsg": "ok"}
    assert len(auth_pushes()) == 2
    assert post(emulator, "service/reauth_corp", suite_access_token=stoken,
                body={"app_id": record["app_id"]})["errcode"] == 40035


def test_set_corp_ipwhitelist(emulator):
    corp, suite, _ = _setup(emulator)
    stoken = suite_token(emulator, suite)
    ok = post(emulator, "service/set_corp_ipwhitelist", suite_access_token=stoken,
              body={"auth_corpid": corp["corp_id"], "ip_whitelist": ["1.2.3.4"]})
    assert ok["errcode"] == 0
    other = emulator.create_corp(users=1)
    assert post(emulator, "service/set_corp_ipwhitelist", suite_access_token=stoken,
                body={"auth_corpid": other["corp_id"], "ip_whitelist": []})["errcode"] == 40079
