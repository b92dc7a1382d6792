"""DingTalkClient over real HTTP: token caching, refresh, token errors, single flight, repr."""

import logging

import pytest

from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials, CorpSecretCredentials
from dingtalk.errors import SignatureError, TokenError
from dingtalk.tokens import InMemoryTokenStore, TokenManager
from tests.dingtalk.test_client_support import (  # noqa: F401 (world_fixture is a fixture)
    EmulatorClock,
    in_threads,
    make_client,
    world_fixture,
)


def test_client_caches_the_token_across_calls(world):
    userid = world.userids(1)[0]
    for _ in range(5):
        assert world.client.users.get(userid).userid == userid
    assert world.token_fetches() == 1
    assert world.calls("user/get") == 5


def test_client_legacy_corpsecret_credentials_work(emulator, world):
    creds = CorpSecretCredentials(world.corp["corp_id"], world.corp["corpsecret"])
    with DingTalkClient(creds, base_url=emulator.base_url) as client:
        assert client.users.org_user_count() == 40
        assert client.cache_key == f"corpsecret:{world.corp['corp_id']}"
    fetches = emulator.counters()["token_fetches"]["gettoken"]
    assert fetches[world.corp["corp_id"]] == 1


def test_client_wrong_app_secret_is_a_signature_error_and_nothing_is_cached(emulator, world):
    client = DingTalkClient(AppCredentials(world.appkey, "wrong"), base_url=emulator.base_url)
    with pytest.raises(SignatureError) as caught:
        client.users.get(world.userids(1)[0])
    assert caught.value.errcode == 40089
    assert "wrong" not in str(caught.value)
    assert emulator.counters()["calls"].get("user/get", 0) == 0


def test_client_shares_tokens_through_a_shared_store(emulator, world):
    store = InMemoryTokenStore()
    first = make_client(emulator, world.app, tokens=store)
    second = make_client(emulator, world.app, tokens=TokenManager(store))
    first.users.get(world.userids(1)[0])
    second.users.get(world.userids(1)[0])
    assert first.access_token().value == second.access_token().value
    assert world.token_fetches() == 1


def test_client_refreshes_ahead_of_expiry_with_one_fetch(emulator, world):
    clock = EmulatorClock(emulator)
    client = make_client(emulator, world.app, clock=clock)
    userid = world.userids(1)[0]
    client.users.get(userid)
    # Inside the 300 s refresh-ahead window the client fetches before DingTalk refuses.
    clock.advance(7200 - 200)
    client.users.get(userid)
    client.users.get(userid)
    counters = emulator.counters()
    assert counters["token_fetches"]["gettoken"][world.appkey] == 2
    assert counters["errcodes"] == {}


def test_client_recovers_from_an_expired_token_with_exactly_one_fetch(emulator, world):
    userid = world.userids(1)[0]
    world.client.users.get(userid)
    old = world.client.access_token().value
    # The client's clock does not know: DingTalk's answer (40014) is what tells it.
    emulator.advance(7300)
    assert world.client.users.get(userid).userid == userid
    counters = emulator.counters()
    assert counters["token_fetches"]["gettoken"][world.appkey] == 2
    assert counters["errcodes"] == {"40014": 1}
    assert world.client.access_token().value != old


def test_client_recovers_from_forced_token_expiry(emulator, world):
    before = world.client.departments.list_ids()
    assert emulator.expire_tokens(appkey=world.appkey) >= 1
    assert world.client.departments.list_ids() == before != []
    assert world.token_fetches() == 2
    assert world.calls("department/list_ids") == 3


def test_client_recovers_a_send_from_a_token_error(emulator, world):
    world.client.users.get(world.userids(1)[0])
    emulator.expire_tokens(appkey=world.appkey)
    task = world.client.work_notices.send(world.agent_id, {"msgtype": "text",
                                                           "text": {"content": "hi"}},
                                          userids=world.userids(2))
    assert task.task_id > 0
    # Refused with 40014 (nothing sent), then sent once with the new token.
    assert world.calls("topapi/message/corpconversation/asyncsend_v2") == 2
    assert emulator.task(task.task_id)["task_id"] == task.task_id


def test_client_second_token_error_raises(emulator, world):
    world.client.users.get(world.userids(1)[0])
    emulator.add_fault("user/get", errcode=40014, count=2)
    with pytest.raises(TokenError) as caught:
        world.client.users.get(world.userids(1)[0])
    assert caught.value.errcode == 40014
    assert world.token_fetches() == 2
    assert world.calls("user/get") == 3


def test_client_fifty_threads_on_an_expired_token_fetch_once(emulator, world):
    emulator.set_config(rate_limits_enabled=False)
    userid = world.userids(1)[0]
    world.client.users.get(userid)
    emulator.advance(7300)
    emulator.reset_counters()
    results, errors = in_threads(50, lambda: world.client.users.get(userid).userid)
    assert errors == []
    assert results == [userid] * 50
    assert emulator.counters()["token_fetches"]["gettoken"] == {world.appkey: 1}


def test_client_fifty_threads_refreshing_ahead_fetch_once(emulator, world):
    emulator.set_config(rate_limits_enabled=False)
    clock = EmulatorClock(emulator)
    client = make_client(emulator, world.app, clock=clock)
    client.users.get(world.userids(1)[0])
    clock.advance(7300)
    emulator.reset_counters()
    _, errors = in_threads(50, client.departments.list_ids)
    assert errors == []
    counters = emulator.counters()
    assert counters["token_fetches"]["gettoken"] == {world.appkey: 1}
    assert counters["calls"]["department/list_ids"] == 50
    assert counters["errcodes"] == {}


def test_client_pool_keeps_a_connection_per_concurrent_thread(emulator, world, caplog):
    emulator.set_config(rate_limits_enabled=False)
    client = make_client(emulator, world.app, pool_size=16)
    userid = world.userids(1)[0]
    client.users.get(userid)
    # Slow answers keep all 16 requests in flight at once; a pool smaller than that discards
    # (and later re-opens) connections, which urllib3 reports as "pool is full".
    emulator.add_fault("user/get", latency_ms=200)
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        _, errors = in_threads(16, lambda: client.users.get(userid))
    assert errors == []
    assert world.calls("user/get") == 17
    assert "pool is full" not in caplog.text


def test_client_request_reaches_endpoints_without_a_typed_method(world):
    body = world.client.request("GET", "user/get", params={"userid": world.userids(1)[0]},
                                idempotent=True)
    assert body["errcode"] == 0 and body["userid"] == world.userids(1)[0]


def test_client_repr_masks_secrets_and_tokens(world):
    world.client.users.get(world.userids(1)[0])
    token = world.client.access_token().value
    text = repr(world.client) + repr(world.client.access_token()) + repr(world.client.tokens)
    assert world.app["appsecret"] not in text
    assert token not in text
    assert world.appkey in repr(world.client)
