"""Bad input gets DingTalk-shaped errors (API) or a JSON 4xx (control API), never a crash."""

import json

import pytest
import requests
from emulator_helpers import internal_app, post, suite_token

from dingtalk.emulator import EmulatorControl, registry
from dingtalk.emulator.app import load_handlers
from dingtalk.emulator.control_client import EmulatorControlError

load_handlers()  # the routes are registered on import; parametrize needs them now

# Every parameter name the handlers read, so each route meets junk where it looks.
NAMES = ("id", "userid", "userId", "deptId", "department_id", "dept_id", "offset", "size",
         "cursor", "order", "order_field", "fetch_child", "onlyActive", "only_active", "unionid",
         "lang", "language", "agent_id", "agentid", "task_id", "msg_task_id", "msg",
         "userid_list", "dept_id_list", "to_all_user", "chatid", "name", "owner", "useridlist",
         "add_useridlist", "del_useridlist", "messageId", "status_value", "status_bg",
         "template_id", "data", "tmp_auth_code", "suite_key", "suite_secret", "suite_ticket",
         "auth_corpid", "permanent_code", "app_id", "corpid_list", "ip_whitelist", "appkey",
         "appsecret", "corpid", "corpsecret", "contain_access_limit", "msgtype", "text", "type",
         "media")
JUNK = ("", "abc", -1, 10**30, [1, "a"], {"a": 1}, "中文\x00", True)


@pytest.fixture(scope="module")
def world(emulator_server):
    """One small world for all the junk calls below (they change nothing in it)."""
    emulator = EmulatorControl(emulator_server.base_url)
    emulator.reset()
    corp, _app, token = internal_app(emulator, users=10)
    suite = emulator.create_suite(push_style="sync_http")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    emulator.set_config(rate_limits_enabled=False)
    return emulator, {"corp": token, "suite": suite_token(emulator, suite), "none": None}


def _call(emulator, route, token_name, token, junk):
    url = f"{emulator.base_url}{route.path}"
    params = {token_name: token} if token else {}
    flat = {k: json.dumps(junk) if isinstance(junk, list | dict) else junk for k in NAMES}
    if route.method == "GET":
        return [requests.get(url, params={**params, **flat}, timeout=10)]
    return [requests.post(url, params=params, json=dict.fromkeys(NAMES, junk), timeout=10),
            requests.post(url, params=params, data=flat, timeout=10)]


@pytest.mark.parametrize("path", sorted(registry.API_ROUTES))
def test_junk_parameters_get_dingtalk_errors(world, path):
    emulator, tokens = world
    route = registry.API_ROUTES[path]
    token_name = "suite_access_token" if route.auth == "suite" else "access_token"
    for junk in JUNK:
        for response in _call(emulator, route, token_name, tokens[route.auth], junk):
            body = response.json()
            assert response.status_code == 200, (junk, response.text)
            assert isinstance(body["errcode"], int) and body["errcode"] != -1, (junk, body)


# Multipart junk for media/upload: odd names, types, parts and bodies (JUNK above covers the
# JSON and form bodies of every route).
MULTIPART_JUNK = (
    {"files": {"media": ("中文\x00.png", b"x")}},
    {"files": {"media": ("a" * 5000 + ".png", b"x")}},
    {"files": {"media": ("../../etc/passwd", b"x")}},
    {"files": {"media": ("a.png", b"x", "\u00ff/\u00ff")}},
    {"files": [("media", ("a.png", b"x")), ("media", ("b.png", b"y"))]},
    {"files": {"media": (None, "not a file")}},
    {"files": {"other": ("a.png", b"x")}},
    {"files": [(f"f{i}", ("a.png", b"x")) for i in range(1100)]},
    {"files": {"media": ("a.png", b"x")}, "data": {"media": "x" * 600_000}},
    {"data": b"--b\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=b"}},
    {"data": b"garbage", "headers": {"Content-Type": "multipart/form-data"}},
    {"data": b"\xff\xfe", "headers": {"Content-Type": "multipart/form-data; boundary="}},
)


@pytest.mark.parametrize("media_type", ["image", "", "中文", "video", "[1]", "file\x00"])
@pytest.mark.parametrize("case", range(len(MULTIPART_JUNK)))
def test_media_upload_multipart_junk_gets_dingtalk_errors(world, media_type, case):
    emulator, tokens = world
    response = requests.post(f"{emulator.base_url}/media/upload",
                             params={"access_token": tokens["corp"], "type": media_type},
                             timeout=30, **MULTIPART_JUNK[case])
    body = response.json()
    assert response.status_code == 200, response.text
    assert isinstance(body["errcode"], int) and body["errcode"] != -1, body


def test_non_ascii_suite_ticket_is_40085(emulator):
    suite = emulator.create_suite()
    body = post(emulator, "service/get_suite_token", body={
        "suite_key": suite["suite_key"], "suite_secret": suite["suite_secret"],
        "suite_ticket": "票据"})
    assert body["errcode"] == 40085


@pytest.mark.parametrize("method, path, body", [
    ("POST", "corps", {"users": 10**9}),
    ("POST", "corps", {"users": -1}),
    ("POST", "corps", {"users": "many"}),
    ("POST", "clock/advance", {"seconds": -1}),
    ("POST", "clock/advance", {"seconds": 10**12}),
    ("POST", "clock/advance", {"seconds": "soon"}),
    ("POST", "faults", {"rate": "often"}),
    ("POST", "faults", {"rate": 2}),
    ("POST", "faults", {"latency_ms": [1]}),
    ("POST", "faults", {"http_status": 200}),
    ("POST", "faults", {"drop": "yes"}),
    ("POST", "faults", {"no_such_field": 1}),
    ("POST", "suites", {"push_style": "carrier pigeon"}),
    ("POST", "suites/nope/authorize", {"corp_id": "x"}),
    ("POST", "apps", {}),
    ("POST", "config", {"token_ttl_s": "long"}),
    ("POST", "reset", {"config": {"token_ttl_s": "long"}}),
    ("POST", "reset", {"seed": "x"}),
])
def test_control_api_refuses_bad_input_with_json_4xx(emulator, method, path, body):
    response = requests.request(method, f"{emulator.base_url}/_emulator/{path}", json=body,
                                timeout=10)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]
    assert "Traceback" not in response.text
    assert emulator.faults() == [] and emulator.list_corps() == []
    assert emulator.get_config()["token_ttl_s"] == 7200


def test_refused_reset_changes_nothing(emulator):
    corp = emulator.create_corp(users=1)
    emulator.set_config(app_api_qps=7)
    with pytest.raises(EmulatorControlError, match="400"):
        emulator.reset(config={"app_api_qps": "fast"})
    assert emulator.get_config()["app_api_qps"] == 7
    assert [c["corp_id"] for c in emulator.list_corps()] == [corp["corp_id"]]


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b"\xff\xfe", b"Infinity"])
def test_control_api_refuses_non_object_bodies(emulator, data):
    response = requests.post(f"{emulator.base_url}/_emulator/corps", data=data, timeout=10)
    assert response.status_code == 400 and response.json()["error"]


def test_no_secret_in_the_reprs_of_the_world(emulator_server, emulator):
    corp = emulator.create_corp(users=1)
    app = emulator.create_app(corp["corp_id"])
    suite = emulator.create_suite()
    record = emulator.authorize(suite["suite_key"], corp["corp_id"])
    state = emulator_server.emulator.state
    with state.lock:
        # The values: tokens and tmp codes are looked up by their own text, so keys are secrets.
        text = repr([list(d.values()) for d in (state.corps, state.apps, state.suites,
                                                state.auths, state.tmp_codes, state.tokens)])
    for secret in (corp["corpsecret"], app["appsecret"], suite["suite_secret"], suite["token"],
                   suite["aes_key"], suite["ticket"], record["permanent_code"],
                   record["tmp_auth_code"]):
        assert secret not in text


@pytest.fixture
def small_world(emulator):
    corp = emulator.create_corp(users=5)
    suite = emulator.create_suite()
    app = emulator.create_app(corp["corp_id"])
    return corp, suite, app


def _world_bad_cases(corp, suite, app):
    key, cid = suite["suite_key"], corp["corp_id"]
    other_dept = max(corp["dept_ids"]) + 1000
    return [
        (f"suites/{key}/authorize", {"corp_id": cid, "authed_dept": "1"}),
        (f"suites/{key}/authorize", {"corp_id": cid, "authed_dept": [other_dept]}),
        (f"suites/{key}/authorize", {"corp_id": cid, "authed_user": ["nobody"]}),
        (f"suites/{key}/authorize", {"corp_id": cid, "activated": "no"}),
        ("suites", {"aes_key": "short"}),
        ("suites", {"templates": "t1"}),
        ("suites", {"suite_key": key}),
        ("apps", {"corp_id": cid, "agent_id": "7"}),
        ("apps", {"corp_id": cid, "appkey": app["appkey"]}),
        (f"corps/{cid}/contact_change", {"action": "user_add_org",
                                          "user": {"userid": "nu", "depts": [other_dept]}}),
        (f"corps/{cid}/contact_change", {"action": "user_modify_org",
                                          "user": {"userid": corp["userids"][0], "active": "no"}}),
        (f"corps/{cid}/contact_change", {"action": "org_dept_modify",
                                          "dept": {"id": corp["dept_ids"][1], "parent_id":
                                                   corp["dept_ids"][1]}}),
        (f"corps/{cid}/update", {"name": 5}),
    ]


def test_control_api_refuses_what_would_corrupt_the_world(emulator, small_world):
    """Wrong types or names of things that do not exist: 400/404, and the world is unchanged."""
    corp, suite, app = small_world
    before = (emulator.get_corp(corp["corp_id"]), emulator.get_suite(suite["suite_key"]),
              emulator.get_app(app["appkey"]), emulator.list_corps())
    for path, body in _world_bad_cases(corp, suite, app):
        response = requests.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=10)
        assert 400 <= response.status_code < 500, (path, body, response.text)
    after = (emulator.get_corp(corp["corp_id"]), emulator.get_suite(suite["suite_key"]),
             emulator.get_app(app["appkey"]), emulator.list_corps())
    assert after == before
    with pytest.raises(EmulatorControlError, match="404"):
        emulator.get_auth(suite["suite_key"], corp["corp_id"])
