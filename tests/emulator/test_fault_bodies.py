"""Fault answers that are not plain errcodes: sub_code/sub_msg, DingTalk's IP-ban body, raw HTML."""

import requests


def _token_and_user(emulator):
    corp = emulator.create_corp(users=3)
    app = emulator.create_app(corp["corp_id"])
    token = requests.get(f"{emulator.base_url}/gettoken",
                         params={"appkey": app["appkey"], "appsecret": app["appsecret"]},
                         timeout=5).json()["access_token"]
    return token, corp["userids"][0]


def _user_get(emulator, token, userid):
    return requests.get(f"{emulator.base_url}/user/get",
                        params={"access_token": token, "userid": userid}, timeout=5)


def test_fault_errcode_carries_sub_code_and_sub_msg(emulator):
    token, userid = _token_and_user(emulator)
    emulator.add_fault("user/get", errcode=88, sub_code="40014", sub_msg="不合法的access_token",
                       count=1)
    body = _user_get(emulator, token, userid).json()
    assert (body["errcode"], body["sub_code"], body["sub_msg"]) == (88, "40014",
                                                                    "不合法的access_token")
    assert _user_get(emulator, token, userid).json()["errcode"] == 0


def test_fault_ip_ban_answers_dingtalks_ban_body_without_errcode(emulator):
    token, userid = _token_and_user(emulator)
    emulator.add_fault("*", ip_ban=True, count=1)
    answer = _user_get(emulator, token, userid)
    body = answer.json()
    assert answer.status_code == 200
    assert "errcode" not in body
    assert (body["status"], body["wait"], body["punish"]) == (1111, 5, "deny")


def test_fault_raw_body_is_answered_verbatim_as_html(emulator):
    token, userid = _token_and_user(emulator)
    page = "<html><body>502 Bad Gateway</body></html>"
    emulator.add_fault("user/get", raw_body=page, http_status=502, count=1)
    answer = _user_get(emulator, token, userid)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text == page
    assert emulator.counters()["calls"]["user/get"] == 1


def test_fault_bad_odd_body_rules_are_refused(emulator):
    for rule in ({"ip_ban": "yes"}, {"raw_body": 5}, {"sub_code": 40014}):
        answer = requests.post(f"{emulator.base_url}/_emulator/faults", json=rule, timeout=5)
        assert answer.status_code == 400, rule
    assert emulator.faults() == []
