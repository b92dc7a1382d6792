"""Fault injection: errcodes, HTTP 5xx, latency, dropped connections, expiry, throttling."""

import pytest
import requests
from emulator_helpers import get, internal_app


@pytest.fixture
def app(emulator):
    corp, app, token = internal_app(emulator)
    return corp, app, token, corp["userids"][0]


def test_errcode_fault_with_count(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", errcode=-1, count=2)
    codes = [get(emulator, "user/get", token, userid=userid)["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    assert emulator.faults()[0]["fired"] == 2


def test_fault_only_for_its_endpoint_and_corp(emulator, app):
    corp, _, token, userid = app
    other_corp, _, other_token = internal_app(emulator)
    emulator.add_fault("user/get", corp_id=corp["corp_id"], errcode=90018)
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 90018
    assert get(emulator, "user/get", other_token,
               userid=other_corp["userids"][0])["errcode"] == 0
    assert get(emulator, "department/list_ids", token, id=1)["errcode"] == 0
    emulator.clear_faults()
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 0


def test_http_5xx_fault(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", http_status=502, count=1)
    response = requests.get(f"{emulator.base_url}/user/get",
                            params={"access_token": token, "userid": userid})
    assert response.status_code == 502


def test_latency_beyond_read_timeout(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", latency_ms=600, count=1)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{emulator.base_url}/user/get",
                     params={"access_token": token, "userid": userid}, timeout=(2, 0.2))


def test_dropped_connection(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", drop=True, count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emulator.base_url}/user/get",
                     params={"access_token": token, "userid": userid}, timeout=5)
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 0


def test_forced_token_expiry_fault(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", expire_token=True, count=1)
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 40014
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 40014  # stays expired


def test_forced_throttling(emulator, app):
    _, _, token, userid = app
    emulator.add_fault("user/get", throttle="app", count=1)
    emulator.add_fault("user/get", throttle="global", count=1)
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 90018
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 90002
    assert get(emulator, "user/get", token, userid=userid)["errcode"] == 0


def test_fault_rate_is_partial(emulator, app):
    _, _, token, userid = app
    emulator.set_config(rate_limits_enabled=False)
    emulator.add_fault("user/get", errcode=-1, rate=0.5)
    codes = [get(emulator, "user/get", token, userid=userid)["errcode"] for _ in range(40)]
    assert 0 < codes.count(-1) < 40


def test_fault_on_token_endpoint(emulator, app):
    _, app_, _, _ = app
    emulator.add_fault("gettoken", errcode=-1, count=1)
    assert get(emulator, "gettoken", appkey=app_["appkey"],
               appsecret=app_["appsecret"])["errcode"] == -1
