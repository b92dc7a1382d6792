"""Wire conventions: methods, bodies, request_id, headers, unknown paths, DingTalk-shaped errors."""

import requests
from emulator_helpers import get, internal_app, post


def test_success_shape_and_server_header(emulator):
    corp, _, token = internal_app(emulator)
    response = requests.get(f"{emulator.base_url}/user/get",
                            params={"access_token": token, "userid": corp["userids"][0]})
    assert response.status_code == 200
    assert response.headers["Server"] == "DingTalk/1.0.0"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["errcode"] == 0 and isinstance(body["errcode"], int) and body["errmsg"] == "ok"
    assert "request_id" not in body  # only topapi answers carry one


def test_topapi_request_id_on_success_and_error(emulator):
    corp, _, token = internal_app(emulator)
    ok = post(emulator, "topapi/v2/user/get", token, {"userid": corp["userids"][0]})
    bad = post(emulator, "topapi/v2/user/get", token, {})
    assert ok["request_id"] and bad["request_id"] and ok["request_id"] != bad["request_id"]


def test_wrong_method_43001_43002(emulator):
    corp, _, token = internal_app(emulator)
    assert post(emulator, "user/get", token, userid=corp["userids"][0])["errcode"] == 43001
    body = get(emulator, "topapi/v2/user/get", token, userid=corp["userids"][0])
    assert body["errcode"] == 43002 and "request_id" in body
    assert get(emulator, "service/get_corp_token")["errcode"] == 43002


def test_unknown_path_404_errcode_body(emulator):
    response = requests.get(f"{emulator.base_url}/no/such/api")
    assert response.status_code == 404 and response.json()["errcode"] == 404


def test_malformed_bodies_43009(emulator):
    _, _, token = internal_app(emulator)
    url = f"{emulator.base_url}/topapi/v2/user/get?access_token={token}"
    for data in (b"{not json", b"[1,2]", b"\xff\xfe"):
        response = requests.post(url, data=data, headers={"Content-Type": "application/json"})
        assert response.status_code == 200 and response.json()["errcode"] == 43009


def test_bad_param_types(emulator):
    _, _, token = internal_app(emulator)
    assert get(emulator, "department/get", token, id="abc")["errcode"] == 40035
    assert post(emulator, "topapi/v2/department/get", token, {"dept_id": "abc"})["errcode"] \
        == 400002
    assert post(emulator, "topapi/v2/department/get", token, {"dept_id": True})["errcode"] \
        == 400002
    assert post(emulator, "topapi/v2/user/get", token, {"userid": {"a": 1}})["errcode"] == 400002


def test_form_body_accepted(emulator):
    corp, _, token = internal_app(emulator)
    response = requests.post(f"{emulator.base_url}/topapi/v2/user/get",
                             params={"access_token": token},
                             data={"userid": corp["userids"][2]})
    assert response.json()["result"]["userid"] == corp["userids"][2]


def test_unexpected_exception_becomes_errcode_minus_1(emulator, emulator_server):
    corp, _, token = internal_app(emulator)
    userid = corp["userids"][0]
    state = emulator_server.emulator.state
    with state.lock:
        state.corps[corp["corp_id"]].users[userid].orders = None  # breaks the renderer
    response = requests.get(f"{emulator.base_url}/user/get",
                            params={"access_token": token, "userid": userid})
    assert response.status_code == 200
    assert response.json() == {"errcode": -1, "errmsg": "系统繁忙"}
    assert "Traceback" not in response.text


def test_counters_calls_and_errcodes(emulator):
    corp, app, token = internal_app(emulator)
    emulator.reset_counters()
    get(emulator, "user/get", token, userid=corp["userids"][0])
    get(emulator, "user/get", token, userid="ghost")
    counters = emulator.counters()
    assert counters["calls"] == {"user/get": 2}
    assert counters["errcodes"] == {"60121": 1}
    assert counters["calls_by"] == [{"endpoint": "user/get", "corp_id": corp["corp_id"],
                                     "suite_key": None, "appkey": app["appkey"], "count": 2}]
    emulator.reset_counters()
    assert emulator.counters()["calls"] == {}
