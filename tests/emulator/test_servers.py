"""The keep-alive server (`--server keepalive`) answers like werkzeug's, on one connection."""

import http.client
import json
import socket
import threading
import time

import pytest
import requests

from dingtalk.emulator import EmulatorControl, EmulatorServer


@pytest.fixture(scope="module")
def keepalive_emulator():
    server = EmulatorServer(keepalive=True)
    control = EmulatorControl(server.start())
    yield control
    server.stop()


def _world(control):
    control.reset()
    corp = control.create_corp(users=3)
    app = control.create_app(corp["corp_id"])
    return corp, app


def test_keepalive_serves_many_calls_on_one_connection(keepalive_emulator):
    corp, app = _world(keepalive_emulator)
    host, port = keepalive_emulator.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", f"/gettoken?appkey={app['appkey']}&appsecret={app['appsecret']}")
    token = json.loads(conn.getresponse().read())["access_token"]
    first_socket = conn.sock
    assert first_socket is not None  # not closed after the answer
    answers = []
    for userid in corp["userids"]:
        conn.request("GET", f"/user/get?access_token={token}&userid={userid}")
        response = conn.getresponse()
        answers.append((response.getheader("Server"), json.loads(response.read())["userid"]))
    conn.request("POST", f"/topapi/v2/user/get?access_token={token}",
                 body=json.dumps({"userid": corp["userids"][0]}),
                 headers={"Content-Type": "application/json"})
    posted = json.loads(conn.getresponse().read())
    # http.client drops a socket the server asked to close: the same object means keep-alive.
    assert conn.sock is first_socket
    conn.close()
    assert answers == [("DingTalk/1.0.0", userid) for userid in corp["userids"]]
    assert posted["result"]["userid"] == corp["userids"][0]


def test_keepalive_bad_json_and_unknown_paths_get_dingtalk_errors(keepalive_emulator):
    base = keepalive_emulator.base_url
    missing = requests.get(f"{base}/no/such/api", timeout=5)
    assert (missing.status_code, missing.json()["errcode"]) == (404, 404)
    bad = requests.post(f"{base}/topapi/v2/user/get", params={"access_token": "x"},
                        data=b"{not json", headers={"Content-Type": "application/json"},
                        timeout=5)
    assert bad.status_code == 200 and bad.json()["errcode"] != 0


def test_keepalive_drop_fault_closes_the_socket(keepalive_emulator):
    corp, app = _world(keepalive_emulator)
    keepalive_emulator.add_fault("gettoken", drop=True, count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{keepalive_emulator.base_url}/gettoken",
                     params={"appkey": app["appkey"], "appsecret": app["appsecret"]}, timeout=5)


def test_counters_skip_a_call_that_began_before_a_reset(emulator):
    corp = emulator.create_corp(users=1)
    app = emulator.create_app(corp["corp_id"])
    token = requests.get(f"{emulator.base_url}/gettoken", params={
        "appkey": app["appkey"], "appsecret": app["appsecret"]}, timeout=5).json()["access_token"]
    emulator.add_fault("user/get", latency_ms=1500, count=1)
    slow = threading.Thread(target=requests.get, args=(f"{emulator.base_url}/user/get",), kwargs={
        "params": {"access_token": token, "userid": corp["userids"][0]}, "timeout": 5})
    slow.start()
    deadline = time.monotonic() + 10
    while emulator.faults()[0]["fired"] == 0:  # polled until the fault holds the call
        assert time.monotonic() < deadline, "the slow call never reached the emulator"
    emulator.reset_counters()
    slow.join(timeout=10)
    # Without the epoch, the held call would land in the fresh counters (a later test's).
    assert emulator.counters()["calls"].get("user/get", 0) == 0


def test_keepalive_port_is_free_after_stop():
    server = EmulatorServer(keepalive=True)
    base = server.start()
    port = int(base.rsplit(":", 1)[1])
    server.stop()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
