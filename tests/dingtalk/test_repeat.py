"""dingtalk.repeat: every endpoint the library calls is classified; the client obeys the table."""

import inspect
import threading
from types import GeneratorType

import pytest

from dingtalk import messages
from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials, SuiteCredentials
from dingtalk.errors import (
    ApiError,
    BadResponse,
    ConnectionFailed,
    DingTalkTimeout,
    InvalidRequest,
    QuotaExceeded,
    RateLimited,
    ServerError,
    TokenError,
    TransientApiError,
    TransportError,
)
from dingtalk.isv import SuiteApi
from dingtalk.newapi import NewApiTransport
from dingtalk.repeat import (
    ENDPOINTS,
    answer_lost,
    endpoint_key,
    is_classified,
    is_safe_to_repeat,
    may_repeat,
    retryable_error,
)
from dingtalk.retry import RetryPolicy
from dingtalk.sso_admin import SsoAdminApi, SsoCredentials
from dingtalk.transport import Transport
from tests.dingtalk.test_client_support import world_fixture  # noqa: F401 (a fixture)

SEND = "topapi/message/corpconversation/asyncsend_v2"


class RecordingRetry(RetryPolicy):
    """One attempt per call; remembers the idempotent flag each request went out under."""

    def __init__(self):
        super().__init__(max_attempts=1)
        self.local = threading.local()

    def call(self, fn, *, idempotent):
        stack = self.local.__dict__.setdefault("flags", [])
        stack.append(idempotent)
        try:
            return super().call(fn, idempotent=idempotent)
        finally:
            stack.pop()


class RecordingTransport(Transport):
    def __init__(self, base_url, retry):
        super().__init__(base_url)
        self.retry = retry
        self.seen: dict[str, set[bool]] = {}

    def request(self, method, path, **kwargs):
        flags = getattr(self.retry.local, "flags", None)
        flag = flags[-1] if flags else None
        self.seen.setdefault(endpoint_key(path), set()).add(flag)
        return super().request(method, path, **kwargs)


class RecordingNewApiTransport(NewApiTransport):
    """The new-API host's requests, recorded by endpoint template like RecordingTransport's."""

    def __init__(self, base_url, retry, seen):
        super().__init__(base_url)
        self.retry = retry
        self.seen = seen

    def request(self, method, template, **kwargs):
        flags = getattr(self.retry.local, "flags", None)
        self.seen.setdefault(endpoint_key(template), set()).add(flags[-1] if flags else None)
        return super().request(method, template, **kwargs)


def _arguments(world: dict, owner, name: str) -> dict:
    """Values for a public method's required parameters (and keyword-only ones the world
    names, such as a send's userids), by parameter name."""
    params = inspect.signature(getattr(owner, name)).parameters.values()
    kwargs = {}
    for param in params:
        if param.kind is param.KEYWORD_ONLY and param.name in world:
            kwargs[param.name] = world[param.name]
        if param.default is not inspect.Parameter.empty or param.kind in (
                param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if param.name not in world:
            pytest.fail(f"{type(owner).__name__}.{name}: give test_repeat a value for "
                        f"{param.name!r} so the endpoint it calls is checked")
        kwargs[param.name] = world[param.name]
    return kwargs


def _exercise(owner, world: dict, skip=()) -> list[str]:
    called = []
    for name, _ in inspect.getmembers(type(owner), inspect.isfunction):
        if name.startswith("_") or name in skip:
            continue
        try:
            result = getattr(owner, name)(**_arguments(world, owner, name))
            if isinstance(result, GeneratorType):
                list(result)
        except (ApiError, TransportError):
            pass  # DingTalk said no: the request was still made and recorded
        called.append(name)
    return called


@pytest.fixture
def recorded(emulator):
    """Every public method of DingTalkClient's groups and SuiteApi, called once over HTTP."""
    emulator.set_config(rate_limits_enabled=False)
    corp = emulator.create_corp(users=5)
    app = emulator.create_app(corp["corp_id"])
    suite = emulator.create_suite(name="Suite")
    auth = emulator.authorize(suite["suite_key"], corp["corp_id"])
    retry = RecordingRetry()
    transport = RecordingTransport(emulator.base_url, retry)
    userid = corp["userids"][0]
    world = {
        "dept_id": 1, "userid": userid, "unionid": "nobody", "agent_id": app["agent_id"],
        "msg": messages.text("hi"), "userids": corp["userids"][:2], "template_id": "t1",
        "data": {}, "task_id": 1, "status_value": "done", "name": "group", "owner": userid,
        "chat_id": "chat-none", "message_id": "msg-none", "corp_id": corp["corp_id"],
        "tmp_auth_code": auth["tmp_auth_code"], "permanent_code": auth["permanent_code"],
        "app_id": auth["app_id"], "corp_ids": [corp["corp_id"]],
        "media_type": "image", "filename": "dot.png", "content": b"\x89PNG\r\n\x1a\n",
        "code": "no-such-code", "order_id": "o-none", "biz_order_id": "o-none",
        "request_id": "r1", "quantity": 1, "goods_code": "G-none",
    }
    client = DingTalkClient(AppCredentials(app["appkey"], app["appsecret"]),
                            transport=transport, retry=retry)
    groups = ("departments", "users", "contacts", "auth", "work_notices", "chats", "media",
              "appstore", "jsapi")
    called = {group: _exercise(getattr(client, group), world) for group in groups}
    called["client"] = _exercise(client, world, skip={"request", "close"})
    with pytest.raises(InvalidRequest):  # the legacy SSO form (40078 for an unknown code)
        client.users.getuserinfo("no-such-code", legacy=True)
    api = SuiteApi(SuiteCredentials(suite["suite_key"], suite["suite_secret"],
                                    lambda: emulator.current_ticket(suite["suite_key"])),
                   transport=transport, retry=retry,
                   new_api_transport=RecordingNewApiTransport(emulator.base_url, retry,
                                                              transport.seen))
    world["agent_id"] = auth["agent_id"]
    called["suite"] = _exercise(api, world, skip={"close"})
    # The legacy (permanent code) forms go through the suite token too.
    api.get_auth_info(corp["corp_id"], auth["permanent_code"])
    api.corp_client(corp["corp_id"], auth["permanent_code"]).users.get(userid)
    isv = emulator.isv_set("dingisvrepeat")
    sso = SsoAdminApi(SsoCredentials(isv["corp_id"], isv["sso_secret"]), transport=transport,
                      retry=retry)
    called["sso_admin"] = _exercise(sso, world, skip={"close"})
    yield transport.seen, called
    transport.close()


def test_repeat_every_endpoint_called_is_classified_and_every_entry_is_used(recorded):
    seen, called = recorded
    assert {"send", "create", "get_permanent_code", "reauth_corp", "upload"} <= {
        name for names in called.values() for name in names}
    unclassified = sorted(path for path in seen if not is_classified(path))
    assert unclassified == [], "add these endpoints to dingtalk.repeat's table"
    assert sorted(set(ENDPOINTS) - set(seen)) == [], "table entries the library never calls"


def test_repeat_client_flags_follow_the_table(recorded):
    seen, _ = recorded
    wrong = {path: flags for path, flags in seen.items()
             if flags != {is_safe_to_repeat(path)}}
    assert wrong == {}


def test_repeat_classification_of_the_risky_calls():
    for path in (SEND, "topapi/message/corpconversation/sendbytemplate", "chat/send",
                 "chat/create", "service/get_permanent_code", "service/reauth_corp",
                 "topapi/message/corpconversation/recall", "media/upload"):
        assert not is_safe_to_repeat(path), path
    for path in ("/gettoken", "service/get_corp_token", "service/activate_suite",
                 "user/get", "/service/get_unactive_corp?suite_access_token=x"):
        assert is_safe_to_repeat(path), path
    assert not is_safe_to_repeat("topapi/something/new") and not is_classified("x/y")
    assert all(rule.why for rule in ENDPOINTS.values())


def test_repeat_retryable_errors():
    for error in (DingTalkTimeout("t"), ConnectionFailed("c"), ServerError("s", status_code=502),
                  BadResponse("b", status_code=200), RateLimited(90018, "qps"),
                  TransientApiError(-1, "busy")):
        assert retryable_error(error), error
    for error in (TokenError(40014), QuotaExceeded(90020), InvalidRequest(40035),
                  ValueError("x")):
        assert not retryable_error(error), error


def test_repeat_may_repeat_a_send_only_when_dingtalk_refused_it():
    assert may_repeat(SEND, RateLimited(90018, "qps"))
    assert not may_repeat(SEND, DingTalkTimeout("t", path=SEND))
    assert not may_repeat(SEND, TransientApiError(-1, "busy"))
    assert may_repeat("user/get", DingTalkTimeout("t"))
    assert not may_repeat("user/get", QuotaExceeded(90020))


def test_repeat_answer_lost_on_a_send_over_http(world):
    """A connection dropped under a send: the error says the send may have happened."""
    world.emulator.add_fault(SEND, drop=True, count=1)
    with pytest.raises(ConnectionFailed) as caught:
        world.client.work_notices.send(world.agent_id, messages.text("x"),
                                       userids=world.userids(1))
    assert answer_lost(caught.value)
    world.emulator.add_fault("user/get", drop=True, count=5)
    with pytest.raises(ConnectionFailed) as read:
        world.client.users.get(world.userids(1)[0])
    assert not answer_lost(read.value)
    world.emulator.add_fault(SEND, throttle="app", count=1)
    with pytest.raises(RateLimited) as throttled:
        world.client.work_notices.send(world.agent_id, messages.text("x"),
                                       userids=world.userids(1))
    assert not answer_lost(throttled.value) and may_repeat(SEND, throttled.value)
