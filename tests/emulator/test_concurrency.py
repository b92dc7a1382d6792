"""State is guarded for concurrent requests: one token, exact quotas and counts in parallel."""

from concurrent.futures import ThreadPoolExecutor

import requests
from emulator_helpers import get, internal_app

THREADS = 16


def _parallel(fn, n):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fn, range(n)))


def test_parallel_gettoken_gives_one_token_and_exact_counters(emulator):
    corp, app, _ = internal_app(emulator)
    emulator.set_config(rate_limits_enabled=False)
    emulator.reset_counters()
    tokens = _parallel(lambda _: get(emulator, "gettoken", appkey=app["appkey"],
                                     appsecret=app["appsecret"])["access_token"], 64)
    assert len(set(tokens)) == 1
    codes = _parallel(lambda i: get(emulator, "user/get", tokens[0],
                                    userid=corp["userids"][i % 10])["errcode"], 96)
    assert set(codes) == {0}
    counters = emulator.counters()
    assert counters["calls"] == {"gettoken": 64, "user/get": 96}
    assert counters["token_fetches"]["gettoken"] == {app["appkey"]: 64}


def test_parallel_sends_respect_the_daily_cap_exactly(emulator):
    """20 concurrent sends to one user with a cap of 10: exactly 10 delivered, 10 forbidden."""
    corp, app, token = internal_app(emulator)
    emulator.set_config(rate_limits_enabled=False, notices={"daily_cap_internal": 10})
    url = f"{emulator.base_url}/topapi/message/corpconversation/asyncsend_v2"

    def send(i):
        body = {"agent_id": app["agent_id"], "userid_list": corp["userids"][0],
                "msg": {"msgtype": "text", "text": {"content": f"message {i}"}}}
        return requests.post(url, params={"access_token": token}, json=body,
                             timeout=10).json()["task_id"]

    task_ids = _parallel(send, 20)
    assert len(set(task_ids)) == 20
    assert emulator.counters()["recipients"] == {"delivered": 10, "forbidden:143105": 10}
