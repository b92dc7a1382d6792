"""get_jsapi_ticket (PROTOCOL-ISV 2.1) in both behaviours and the container's dd.config check
(2.2), over plain HTTP; signatures here are computed by hand with hashlib."""

import hashlib

import requests
from emulator_helpers import corp_token_signed, get, internal_app, isv_app

URL = "http://h5.example.com:8080/app/index.html?corpId=ding1&x=a%20b+c#/route?y=1"
# The same page as the container signs it: fragment gone, query decoded once (+ is a space).
SIGNED_URL = "http://h5.example.com:8080/app/index.html?corpId=ding1&x=a b c"


def _ticket(emulator, token, **params):
    return get(emulator, "get_jsapi_ticket", token, **params)


def _sign(ticket, nonce, timestamp, url, algorithm="sha256"):
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.new(algorithm, plain.encode()).hexdigest()


def verify(emulator, corp_id, **body):
    response = requests.post(f"{emulator.base_url}/_emulator/corps/{corp_id}/jsapi/verify",
                             json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _calls(emulator, corp_id):
    return sum(row["count"] for row in emulator.counters()["calls_by"]
               if row["endpoint"] == "get_jsapi_ticket" and row["corp_id"] == corp_id)


def test_jsapi_ticket_answer_and_type_param_ignored(emulator):
    _corp, _suite, _record, token = isv_app(emulator, users=1)
    body = _ticket(emulator, token, type="jsapi")
    assert body["errcode"] == 0 and body["errmsg"] == "ok", body
    assert body["expires_in"] == 7200 and len(body["ticket"]) >= 32
    assert _ticket(emulator, token)["ticket"] == body["ticket"]


def test_jsapi_ticket_needs_a_corp_token(emulator):
    assert _ticket(emulator, None)["errcode"] == 41001
    assert _ticket(emulator, "no-such-token")["errcode"] == 40014


def test_jsapi_ticket_extended_by_each_call_until_24_hours(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=1)
    first = _ticket(emulator, token)["ticket"]
    for _ in range(12):  # 12 x 7000 s = 23.3 h: each call extends the same ticket
        emulator.advance(7000)
        token = corp_token_signed(emulator, _suite, corp["corp_id"])["access_token"]
        assert _ticket(emulator, token)["ticket"] == first
    emulator.advance(86_400 - 84_000 - 1)  # one second before the hard death
    assert verify(emulator, corp["corp_id"], url=URL, nonceStr="n", timeStamp=1,
                  signature=_sign(first, "n", 1, SIGNED_URL))["ok"] is True
    emulator.advance(1)  # 24 h after it was made, whatever the extensions
    refused = verify(emulator, corp["corp_id"], url=URL, nonceStr="n", timeStamp=1,
                     signature=_sign(first, "n", 1, SIGNED_URL))
    assert refused["errorCode"] == 52011 and refused["ok"] is False
    token = corp_token_signed(emulator, _suite, corp["corp_id"])["access_token"]
    assert _ticket(emulator, token)["ticket"] != first


def test_jsapi_ticket_dies_without_calls_after_its_ttl(emulator):
    corp, suite, _record, token = isv_app(emulator, users=1)
    first = _ticket(emulator, token)["ticket"]
    emulator.advance(7200)
    token = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    assert _ticket(emulator, token)["ticket"] != first


def test_jsapi_ticket_legacy_each_call_replaces_the_old(emulator):
    emulator.set_config(jsapi_ticket_legacy=True)
    corp, _suite, record, token = isv_app(emulator, users=1)
    old = _ticket(emulator, token)["ticket"]
    args = {"url": URL, "nonceStr": "abc", "timeStamp": "1414588745",
            "agentId": record["agent_id"]}
    assert verify(emulator, corp["corp_id"], **args,
                  signature=_sign(old, "abc", "1414588745", SIGNED_URL))["ok"] is True
    new = _ticket(emulator, token)["ticket"]
    assert new != old
    stale = verify(emulator, corp["corp_id"], **args,
                   signature=_sign(old, "abc", "1414588745", SIGNED_URL))
    assert (stale["ok"], stale["errorCode"]) == (False, 52013)
    assert verify(emulator, corp["corp_id"], **args,
                  signature=_sign(new, "abc", "1414588745", SIGNED_URL))["ok"] is True


def test_jsapi_tickets_per_suite_and_corp_and_per_appkey(emulator):
    corp, suite, record, token = isv_app(emulator, users=1)
    other_suite = emulator.create_suite(push_style="sync_http")
    emulator.authorize(other_suite["suite_key"], corp["corp_id"])
    other_token = corp_token_signed(emulator, other_suite, corp["corp_id"])["access_token"]
    _corp2, app, app_token = internal_app(emulator, users=1)
    tickets = {_ticket(emulator, t)["ticket"] for t in (token, other_token, app_token)}
    assert len(tickets) == 3
    mine = _ticket(emulator, token)["ticket"]
    # Another suite's ticket in the same corp does not sign for this suite's agent.
    theirs = _ticket(emulator, other_token)["ticket"]
    refused = verify(emulator, corp["corp_id"], url=URL, nonceStr="n", timeStamp=5,
                     agentId=record["agent_id"], signature=_sign(theirs, "n", 5, SIGNED_URL))
    assert refused["errorCode"] == 52013
    ok = verify(emulator, corp["corp_id"], url=URL, nonceStr="n", timeStamp=5,
                agentId=record["agent_id"], signature=_sign(mine, "n", 5, SIGNED_URL))
    assert ok["ok"] is True and ok["owner"] == ["suite", suite["suite_key"]]
    app_ok = verify(emulator, app["corp_id"], url=URL, nonceStr="n", timeStamp=5,
                    agentId=app["agent_id"], signature=_sign(
                        _ticket(emulator, app_token)["ticket"], "n", 5, SIGNED_URL))
    assert app_ok["owner"] == ["app", app["appkey"]]


def test_jsapi_ticket_counted_per_corp(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=1)
    other, _suite2, _record2, other_token = isv_app(emulator, users=1)
    for _ in range(3):
        _ticket(emulator, token)
    _ticket(emulator, other_token)
    assert (_calls(emulator, corp["corp_id"]), _calls(emulator, other["corp_id"])) == (3, 1)
    assert emulator.counters()["calls"]["get_jsapi_ticket"] == 4


def test_verify_both_hashes_and_the_signed_url_exactly(emulator):
    corp, _suite, record, token = isv_app(emulator, users=1)
    ticket = _ticket(emulator, token)["ticket"]
    base = {"nonceStr": "Zn4zmLFKD0wzilzM", "timeStamp": 1414588745, "url": URL,
            "agentId": record["agent_id"]}
    for algorithm in ("sha1", "sha256"):
        answer = verify(emulator, corp["corp_id"], **base, signature=_sign(
            ticket, base["nonceStr"], base["timeStamp"], SIGNED_URL, algorithm))
        assert (answer["ok"], answer["hash"], answer["url"]) == (True, algorithm, SIGNED_URL)
    # The classic 52013 causes: the fragment or the raw query signed, the port left out.
    for wrong in (URL, "http://h5.example.com:8080/app/index.html?corpId=ding1&x=a%20b+c",
                  "http://h5.example.com/app/index.html?corpId=ding1&x=a b c"):
        answer = verify(emulator, corp["corp_id"], **base, signature=_sign(
            ticket, base["nonceStr"], base["timeStamp"], wrong))
        assert (answer["ok"], answer["errorCode"]) == (False, 52013), wrong
    signature = _sign(ticket, base["nonceStr"], base["timeStamp"], SIGNED_URL)
    assert verify(emulator, corp["corp_id"], **{**base, "timeStamp": 1414588746},
                  signature=signature)["errorCode"] == 52013
    assert verify(emulator, corp["corp_id"], **{**base, "nonceStr": "other"},
                  signature=signature)["errorCode"] == 52013
    assert verify(emulator, corp["corp_id"], **base,
                  signature=signature.upper())["errorCode"] == 52013


def test_verify_refusals(emulator):
    corp, _suite, record, token = isv_app(emulator, users=1)
    args = {"nonceStr": "n", "timeStamp": 1, "signature": "00", "agentId": record["agent_id"]}
    # No ticket fetched yet: the container cannot read one.
    assert verify(emulator, corp["corp_id"], url=URL, **args)["errorCode"] == 52011
    _ticket(emulator, token)
    for bad in ("ftp://h5.example.com/", "//h5.example.com/", "http:///path", "", None,
                "http://h\x00ost/"):
        assert verify(emulator, corp["corp_id"], url=bad, **args)["errorCode"] == 52014, bad
    assert verify(emulator, corp["corp_id"], url=URL,
                  **{**args, "nonceStr": ""})["errorCode"] == 52015
    wrong_agent = verify(emulator, corp["corp_id"], url=URL, **{**args, "agentId": 1})
    assert (wrong_agent["ok"], wrong_agent["reason"]) == (False, "agent_invalid")
    missing = requests.post(f"{emulator.base_url}/_emulator/corps/ding-none/jsapi/verify",
                            json={"url": URL}, timeout=10)
    assert missing.status_code == 404


def test_reset_forgets_tickets(emulator):
    corp, _suite, record, token = isv_app(emulator, users=1)
    ticket = _ticket(emulator, token)["ticket"]
    emulator.reset()
    corp2 = emulator.create_corp(users=1, corp_id=corp["corp_id"])
    assert verify(emulator, corp2["corp_id"], url=URL, nonceStr="n", timeStamp=1,
                  signature=_sign(ticket, "n", 1, SIGNED_URL))["errorCode"] == 52011
