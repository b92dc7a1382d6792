"""The control API: reset, clock, generated orgs, apps, suites, auth changes, state files, CLI."""

import json
import socket
import subprocess
import sys
import time

import pytest
import requests
from emulator_helpers import get, internal_app

from dingtalk.emulator import EmulatorConfig, EmulatorControl, EmulatorServer
from dingtalk.emulator.control_client import EmulatorControlError
from dingtalk.emulator.generator import generate_corp


def test_reset_empties_the_world_and_restores_config(emulator):
    internal_app(emulator)
    emulator.set_config(app_api_qps=1)
    emulator.advance(100)
    emulator.reset()
    assert emulator.list_corps() == []
    assert emulator.get_config()["app_api_qps"] == 20
    assert abs(emulator.now_ms() - time.time() * 1000) < 5_000


def test_clock_advance(emulator):
    before = emulator.now_ms()
    after = emulator.advance(3600)
    assert 3_600_000 <= after - before < 3_605_000
    with pytest.raises(EmulatorControlError):
        emulator.advance(-1)


def test_generated_corp_is_deterministic_per_seed():
    a = generate_corp(seed=7, index=1, users=200)
    b = generate_corp(seed=7, index=1, users=200)
    c = generate_corp(seed=8, index=1, users=200)
    assert a.corp_id == b.corp_id and list(a.users) == list(b.users)
    assert [u.name for u in a.users.values()] == [u.name for u in b.users.values()]
    assert a.corp_id != c.corp_id


def test_generated_corp_shape(emulator):
    corp = emulator.create_corp(users=200, name="示例")
    detail = emulator.get_corp(corp["corp_id"])
    assert corp["user_count"] == 200 and corp["name"] == "示例"
    assert corp["corp_id"].startswith("ding")
    by_id = {d["id"]: d for d in detail["departments"]}
    assert by_id[1]["parent_id"] is None
    assert all(d["parent_id"] in by_id for d in detail["departments"] if d["id"] != 1)
    assert len({u["unionid"] for u in detail["users"]}) == 200
    assert any(u["is_boss"] for u in detail["users"]) and any(u["is_admin"]
                                                               for u in detail["users"])


def test_generator_is_fast_enough_for_benchmarks():
    start = time.perf_counter()
    corp = generate_corp(seed=1, index=1, users=5000)
    elapsed = time.perf_counter() - start
    assert len(corp.users) == 5000
    assert elapsed < 2.5  # 20 corps x 5,000 users must take seconds, not minutes


def test_corp_errors(emulator):
    corp = emulator.create_corp(users=1)
    with pytest.raises(EmulatorControlError):
        emulator.create_corp(corp_id=corp["corp_id"])
    with pytest.raises(EmulatorControlError):
        emulator.get_corp("dingnope")
    with pytest.raises(EmulatorControlError):
        emulator.create_app("dingnope")


def test_create_app_and_suite_with_given_credentials(emulator):
    corp = emulator.create_corp(users=1)
    app = emulator.create_app(corp["corp_id"], appkey="dingkey", appsecret="s3cret",
                              agent_id=123)
    assert emulator.get_app("dingkey")["agent_id"] == 123
    assert get(emulator, "gettoken", appkey="dingkey", appsecret="s3cret")["errcode"] == 0
    suite = emulator.create_suite(suite_key="suiteabc", suite_secret="x", token="tok",
                                  aes_key="a" * 43, callback_url="http://127.0.0.1:1/cb",
                                  message_api="sendbytemplate", templates={"t1": {}})
    assert suite["suite_key"] == "suiteabc" and suite["ticket"]
    assert emulator.get_suite("suiteabc")["message_api"] == "sendbytemplate"
    # A suite id read from settings arrives as text (config/launcher.py does this).
    assert emulator.create_suite(suite_id="10000001")["suite_id"] == 10000001
    assert app["corp_id"] == corp["corp_id"]
    with pytest.raises(EmulatorControlError):
        emulator.create_suite(push_style="carrier-pigeon")


def test_auth_record_inspection(emulator):
    corp = emulator.create_corp(users=3)
    suite = emulator.create_suite()
    record = emulator.authorize(suite["suite_key"], corp["corp_id"], authed_dept=[1])
    got = emulator.get_auth(suite["suite_key"], corp["corp_id"])
    assert got["agent_id"] == record["agent_id"] and got["status"] == "authorized"
    assert got["auth_info"]["auth_corp_info"]["corpid"] == corp["corp_id"]
    emulator.relieve(suite["suite_key"], corp["corp_id"])
    assert emulator.get_auth(suite["suite_key"], corp["corp_id"])["status"] == "relieved"
    with pytest.raises(EmulatorControlError):
        emulator.relieve(suite["suite_key"], corp["corp_id"])


def test_contact_change_user_and_dept(emulator):
    corp, _, token = internal_app(emulator, users=10)
    added = emulator.contact_change(corp["corp_id"], "user_add_org",
                                    user={"userid": "newbie", "name": "新人"})
    assert added["userids"] == ["newbie"]
    assert get(emulator, "user/get", token, userid="newbie")["name"] == "新人"
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": "newbie", "position": "CTO"})
    assert get(emulator, "user/get", token, userid="newbie")["position"] == "CTO"
    emulator.contact_change(corp["corp_id"], "user_leave_org", user={"userid": "newbie"})
    assert get(emulator, "user/get", token, userid="newbie")["errcode"] == 60121
    dept = emulator.contact_change(corp["corp_id"], "org_dept_create", dept={"name": "新部门"})
    dept_id = dept["dept_ids"][0]
    assert dept_id in get(emulator, "department/list_ids", token, id=1)["sub_dept_id_list"]
    emulator.contact_change(corp["corp_id"], "org_dept_remove", dept={"id": dept_id})
    assert get(emulator, "department/get", token, id=dept_id)["errcode"] == 60003
    with pytest.raises(EmulatorControlError):
        emulator.contact_change(corp["corp_id"], "org_dept_remove", dept={"id": 1})


def test_corp_update(emulator):
    corp = emulator.create_corp(users=2)
    suite = emulator.create_suite()
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    result = emulator.corp_update(corp["corp_id"], name="改名")
    assert result["notified"] == [suite["suite_key"]]
    assert emulator.get_auth(suite["suite_key"],
                             corp["corp_id"])["auth_info"]["auth_corp_info"]["corp_name"] == "改名"


@pytest.mark.parametrize("changes", [
    {"no_such_knob": 1}, {"notices": {"daily_cap_isvv": 50}}, {"pusher": {"retries": 3}},
    {"app_api_qps": "20"}, {"notices": {"daily_cap_isv": "50"}}, {"notices": [1]},
    {"expired_token_errcode": True}, {"app_api_qps": 5, "notices": {"nope": 1}},
])
def test_bad_config_refused_whole(emulator, changes):
    """Unknown keys or wrongly typed values: 400, and nothing of the request is applied."""
    before = emulator.get_config()
    with pytest.raises(EmulatorControlError, match="400"):
        emulator.set_config(**changes)
    assert emulator.get_config() == before


def test_cli_refuses_bad_flags_and_files_in_one_line(tmp_path):
    from dingtalk.emulator.__main__ import main

    with pytest.raises(SystemExit, match="notices.daily_cap_isvv"):
        main(["--quota", "daily_cap_isvv=50", "--port", "0"])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for flag in ("--fixture", "--config"):
        with pytest.raises(SystemExit, match="JSONDecodeError"):
            main([flag, str(broken), "--port", "0"])
    with pytest.raises(SystemExit, match="FileNotFoundError"):
        main(["--fixture", str(tmp_path / "missing.json"), "--port", "0"])


def test_state_file_round_trip(tmp_path):
    path = tmp_path / "state.json"
    server = EmulatorServer(EmulatorConfig(), state_file=str(path))
    control = EmulatorControl(server.start())
    corp, app, token = internal_app(control, users=25)
    control.advance(50)
    server.stop()
    assert json.loads(path.read_text())["version"] == 1
    again = EmulatorServer(EmulatorConfig(), state_file=str(path))
    control2 = EmulatorControl(again.start())
    try:
        body = get(control2, "user/get", token, userid=corp["userids"][3])
        assert body["userid"] == corp["userids"][3]
        assert control2.get_app(app["appkey"])["appsecret"] == app["appsecret"]
        saved = control2.save_state()
        assert saved["saved"] == str(path)
    finally:
        again.stop()


def test_fixture_file_creates_world_at_start_and_on_reset():
    fixture = {"corps": [{"users": 5, "apps": [{"appkey": "fixkey", "appsecret": "fixsecret"}]}],
               "suites": [{"suite_key": "suitefix", "authorize": [{"corp_index": 0}]}]}
    server = EmulatorServer(EmulatorConfig(), fixture=fixture)
    control = EmulatorControl(server.start())
    try:
        assert get(control, "gettoken", appkey="fixkey", appsecret="fixsecret")["errcode"] == 0
        control.reset()
        assert len(control.list_corps()) == 1
        corp_id = control.list_corps()[0]["corp_id"]
        assert control.get_auth("suitefix", corp_id)["status"] == "authorized"
    finally:
        server.stop()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_starts_with_fixture(tmp_path):
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"corps": [{"users": 3}]}))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dingtalk.emulator", "--port", str(port),
                             "--fixture", str(fixture), "--seed", "5", "--no-rate-limits",
                             "--quota", "daily_cap_isv=50", "--quota", "day_mode=rolling"],
                            stderr=subprocess.PIPE, text=True)
    try:
        # The CLI logs its URL once it is serving; readline returns "" if it died instead.
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}" in line, line
        corps = requests.get(f"http://127.0.0.1:{port}/_emulator/corps", timeout=5).json()
        assert corps[0]["user_count"] == 3
        config = requests.get(f"http://127.0.0.1:{port}/_emulator/config", timeout=2).json()
        assert config["seed"] == 5 and config["rate_limits_enabled"] is False
        assert config["notices"] == {"daily_cap_isv": 50, "day_mode": "rolling"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_gunicorn_server_keeps_dingtalk_header():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dingtalk.emulator", "--port", str(port),
                             "--server", "gunicorn", "--threads", "4"],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "(gunicorn)" in proc.stderr.readline()
        control = EmulatorControl(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:  # gunicorn binds its socket just after the log line
            try:
                corp = control.create_corp(users=3)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
        app = control.create_app(corp["corp_id"])
        response = requests.get(f"http://127.0.0.1:{port}/gettoken", timeout=5, params={
            "appkey": app["appkey"], "appsecret": app["appsecret"]})
        assert response.headers["Server"] == "DingTalk/1.0.0"
        assert response.json()["errcode"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
