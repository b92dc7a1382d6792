"""Every error class over real HTTP (emulator faults), and which calls are retried, how often."""

import pytest

from dingtalk import messages
from dingtalk.errors import (
    ApiError,
    ConnectionFailed,
    DingTalkTimeout,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    ServerError,
    SignatureError,
    TransientApiError,
)
from tests.dingtalk.test_client_support import (  # noqa: F401 (world_fixture is a fixture)
    Sleeps,
    make_client,
    world_fixture,
)

SEND = "topapi/message/corpconversation/asyncsend_v2"


@pytest.mark.parametrize(("errcode", "error_class"), [
    (60011, PermissionDenied),
    (50002, PermissionDenied),
    (60121, NotFound),
    (40035, InvalidRequest),
    (853004, SignatureError),
    (90020, QuotaExceeded),
    (12345, ApiError),
])
def test_client_errcode_faults_raise_their_class_without_retry(emulator, world, errcode,
                                                                error_class):
    emulator.add_fault("user/get", errcode=errcode)
    with pytest.raises(error_class) as caught:
        world.client.users.get(world.userids(1)[0])
    assert caught.value.errcode == errcode
    assert caught.value.path == "user/get"
    assert world.calls("user/get") == 1
    assert world.sleeps.delays == []


@pytest.mark.parametrize(("fault", "error_class"), [
    ({"errcode": -1}, TransientApiError),
    ({"errcode": 400001}, TransientApiError),
    ({"throttle": "app"}, RateLimited),
    ({"throttle": "global"}, RateLimited),
    ({"http_status": 503}, ServerError),
    ({"drop": True}, ConnectionFailed),
])
def test_client_retryable_faults_on_a_read_are_retried_and_bounded(emulator, world, fault,
                                                                    error_class):
    emulator.add_fault("department/list_ids", **fault)
    with pytest.raises(error_class):
        world.client.departments.list_ids()
    assert world.calls("department/list_ids") == 3
    assert len(world.sleeps.delays) == 2


def test_client_retry_bound_follows_the_policy(emulator, world):
    client = make_client(emulator, world.app, max_attempts=5)
    emulator.add_fault("user/get", errcode=-1)
    with pytest.raises(TransientApiError):
        client.users.get(world.userids(1)[0])
    assert world.calls("user/get") == 5


@pytest.mark.parametrize("fault", [
    {"errcode": -1}, {"http_status": 502}, {"drop": True}, {"throttle": "app"},
])
def test_client_transient_fault_on_a_read_is_retried_and_succeeds(emulator, world, fault):
    emulator.add_fault("user/get", count=2, **fault)
    userid = world.userids(1)[0]
    assert world.client.users.get(userid).userid == userid
    assert world.calls("user/get") == 3
    assert len(world.sleeps.delays) == 2


def test_client_v2_read_posts_are_retried_too(emulator, world):
    emulator.add_fault("topapi/v2/user/get", errcode=-1, count=1)
    assert world.client.contacts.user_get(world.userids(1)[0]).userid == world.userids(1)[0]
    assert world.calls("topapi/v2/user/get") == 2


def test_client_throttle_waits_at_least_dingtalks_hint(emulator, world):
    emulator.add_fault("user/get", throttle="app", count=1)
    world.client.users.get(world.userids(1)[0])
    # 90018: the QPS doc says wait one second.
    assert world.sleeps.delays and world.sleeps.delays[0] >= 1.0


@pytest.mark.parametrize(("fault", "error_class"), [
    ({"errcode": -1}, TransientApiError),
    ({"http_status": 500}, ServerError),
    ({"drop": True}, ConnectionFailed),
    ({"throttle": "app"}, RateLimited),
])
def test_client_send_is_never_retried_blindly(emulator, world, fault, error_class):
    emulator.add_fault(SEND, count=1, **fault)
    msg = messages.text("once")
    with pytest.raises(error_class):
        world.client.work_notices.send(world.agent_id, msg, userids=world.userids(2))
    assert world.calls(SEND) == 1
    assert world.sleeps.delays == []
    # The fault is spent: the caller's own retry goes through.
    assert world.client.work_notices.send(world.agent_id, msg, userids=world.userids(2)).task_id


def test_client_chat_create_and_send_are_not_retried(emulator, world):
    emulator.add_fault("chat/create", errcode=-1, count=1)
    with pytest.raises(TransientApiError):
        world.client.chats.create("g", world.userids(1)[0], world.userids(3))
    assert world.calls("chat/create") == 1
    chat = world.client.chats.create("g", world.userids(1)[0], world.userids(3))
    emulator.add_fault("chat/send", drop=True, count=1)
    with pytest.raises(ConnectionFailed):
        world.client.chats.send(chat.chat_id, messages.text("x"))
    assert world.calls("chat/send") == 1


def test_client_read_timeout_raises_timeout_and_is_bounded(emulator, world):
    client = make_client(emulator, world.app, timeout=(2.0, 0.3))
    client.users.get(world.userids(1)[0])
    emulator.add_fault("user/get", latency_ms=1000)
    with pytest.raises(DingTalkTimeout) as caught:
        client.users.get(world.userids(1)[0])
    assert "access_token" not in str(caught.value)
    # The emulator counts a call when it answers; the fault counts it when it arrives.
    assert [f["fired"] for f in emulator.faults()] == [3]


def test_client_send_timeout_is_not_retried(emulator, world):
    client = make_client(emulator, world.app, sleeps=world.sleeps, timeout=(2.0, 0.3))
    client.users.get(world.userids(1)[0])
    emulator.add_fault(SEND, latency_ms=1000)
    with pytest.raises(DingTalkTimeout):
        client.work_notices.send(world.agent_id, messages.text("t"), userids=world.userids(1))
    assert [f["fired"] for f in emulator.faults()] == [1]
    assert world.sleeps.delays == []


def test_client_token_fetch_is_retried_on_transient_faults(emulator, world):
    emulator.add_fault("gettoken", errcode=-1, count=2)
    assert world.client.users.get(world.userids(1)[0])
    assert world.calls("gettoken") == 3
    assert world.token_fetches() == 1


def test_client_error_messages_carry_no_secrets(emulator, world):
    world.client.users.get(world.userids(1)[0])
    token = world.client.access_token().value
    emulator.add_fault("user/get", http_status=503)
    with pytest.raises(ServerError) as caught:
        world.client.users.get(world.userids(1)[0])
    assert caught.value.status_code == 503
    assert token not in str(caught.value)
    assert world.app["appsecret"] not in str(caught.value)
