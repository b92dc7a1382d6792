"""SuiteApi over the emulator: suite and corp tokens (both forms), activation, auth info, agents."""

from dataclasses import dataclass

import pytest

from dingtalk.credentials import SuiteCredentials
from dingtalk.errors import (
    ApiError,
    InvalidRequest,
    PermissionDenied,
    SignatureError,
    TransientApiError,
)
from dingtalk.events import TmpAuthCodeEvent, parse_callback
from dingtalk.isv import SuiteApi
from dingtalk.retry import RetryPolicy
from tests.dingtalk.test_client_support import Sleeps, in_threads
from tests.emulator.pusher_helpers import Receiver, make_suite


@dataclass
class Isv:
    emulator: object
    corp: dict
    suite: dict
    auth: dict
    api: SuiteApi

    @property
    def corp_id(self) -> str:
        return self.corp["corp_id"]

    @property
    def key(self) -> str:
        return self.suite["suite_key"]

    def fetches(self, kind: str) -> int:
        counts = self.emulator.counters()["token_fetches"][kind]
        return counts.get(self.key if kind == "get_suite_token" else f"{self.key}:{self.corp_id}",
                          0)

    def new_api(self, ticket=None) -> SuiteApi:
        ticket = ticket or (lambda: self.emulator.current_ticket(self.key))
        creds = SuiteCredentials(self.key, self.suite["suite_secret"], ticket)
        return SuiteApi(creds, base_url=self.emulator.base_url,
                        retry=RetryPolicy(sleep=Sleeps()))


@pytest.fixture
def isv(emulator):
    corp = emulator.create_corp(users=20)
    suite = emulator.create_suite(name="Suite")
    auth = emulator.authorize(suite["suite_key"], corp["corp_id"],
                              admin_userid=corp["userids"][0])
    world = Isv(emulator, corp, suite, auth, None)
    world.api = world.new_api()
    return world


def test_isv_suite_token_is_fetched_once_and_masked(isv):
    token = isv.api.suite_access_token()
    assert isv.api.suite_access_token().value == token.value
    assert isv.fetches("get_suite_token") == 1
    text = repr(isv.api) + repr(token)
    assert token.value not in text and isv.suite["suite_secret"] not in text
    assert isv.suite["ticket"] not in text


def test_isv_signed_corp_token_is_shared_with_the_corp_client(isv):
    token = isv.api.get_corp_token(isv.corp_id)
    client = isv.api.corp_client(isv.corp_id)
    user = client.users.get(isv.corp["userids"][0])
    assert client.access_token().value == token.value
    # ISV tokens never see mobile or email.
    assert user.name and user.mobile is None and user.email is None
    assert isv.fetches("get_corp_token") == 1
    # The signed form needs no suite token.
    assert isv.fetches("get_suite_token") == 0


def test_isv_signature_uses_the_real_clock_not_the_emulated_one(isv):
    isv.emulator.advance(3600)
    assert isv.api.get_corp_token(isv.corp_id).value


def test_isv_legacy_corp_token_uses_the_permanent_code(isv):
    api = isv.new_api()
    assert api.get_corp_token(isv.corp_id, isv.auth["permanent_code"]).value
    assert isv.fetches("get_corp_token") == 1 and isv.fetches("get_suite_token") == 1
    with pytest.raises(ApiError):
        isv.new_api().get_corp_token(isv.corp_id, "not-the-code")


def test_isv_permanent_code_is_single_use_and_not_retried(isv):
    code = isv.api.get_permanent_code(isv.auth["tmp_auth_code"])
    assert (code.corp_id, code.permanent_code) == (isv.corp_id, isv.auth["permanent_code"])
    assert code.permanent_code not in repr(code)
    isv.emulator.add_fault("service/get_permanent_code", errcode=-1, count=1)
    with pytest.raises(ApiError):
        isv.api.get_permanent_code(isv.auth["tmp_auth_code"])
    with pytest.raises(InvalidRequest):
        isv.api.get_permanent_code(isv.auth["tmp_auth_code"])
    assert isv.emulator.counters()["calls"]["service/get_permanent_code"] == 3


def test_isv_activation_shows_in_get_agent_both_forms(isv):
    agent_id, code = isv.auth["agent_id"], isv.auth["permanent_code"]
    before = isv.api.get_agent(isv.corp_id, agent_id)
    assert (before.agent_id, before.close, before.active) == (agent_id, 2, False)
    isv.api.activate_suite(isv.corp_id, code)
    assert isv.api.get_agent(isv.corp_id, agent_id).active
    assert isv.api.get_agent(isv.corp_id, agent_id, permanent_code=code).close == 1


def test_isv_auth_info_signed_and_legacy_agree(isv):
    signed = isv.api.get_auth_info(isv.corp_id)
    legacy = isv.api.get_auth_info(isv.corp_id, isv.auth["permanent_code"])
    assert signed == legacy
    assert signed.corp_id == isv.corp_id and signed.corp_name
    assert signed.auth_user_id == isv.corp["userids"][0]
    (agent,) = signed.agents
    assert (agent.agent_id, agent.app_id) == (isv.auth["agent_id"], isv.auth["app_id"])
    assert signed.raw["auth_corp_info"]["corpid"] == isv.corp_id


def test_isv_stale_ticket_is_a_signature_error(isv):
    old = isv.emulator.current_ticket(isv.key)
    isv.emulator.push_ticket(isv.key)
    with pytest.raises(SignatureError) as caught:
        isv.new_api(ticket=lambda: old).get_auth_info(isv.corp_id)
    assert caught.value.errcode == 40085
    assert isv.api.get_auth_info(isv.corp_id).corp_id == isv.corp_id


def test_isv_expired_corp_token_is_refetched_once(isv):
    client = isv.api.corp_client(isv.corp_id)
    client.departments.list_ids()
    isv.emulator.expire_tokens(suite_key=isv.key, kind="suite_corp")
    assert client.departments.list_ids() is not None
    assert isv.fetches("get_corp_token") == 2


def test_isv_expired_suite_token_is_refetched_once(isv):
    code = isv.auth["permanent_code"]
    isv.api.get_auth_info(isv.corp_id, code)
    isv.emulator.expire_tokens(suite_key=isv.key, kind="suite")
    assert isv.api.get_auth_info(isv.corp_id, code).corp_id == isv.corp_id
    assert isv.fetches("get_suite_token") == 2


def test_isv_fifty_threads_on_an_expired_corp_token_fetch_once(isv):
    isv.emulator.set_config(rate_limits_enabled=False)
    client = isv.api.corp_client(isv.corp_id)
    client.users.get(isv.corp["userids"][0])
    isv.emulator.advance(7300)
    isv.emulator.reset_counters()
    _, errors = in_threads(50, lambda: client.users.get(isv.corp["userids"][0]))
    assert errors == []
    assert isv.fetches("get_corp_token") == 1


def test_isv_corp_token_may_not_use_chats(isv):
    client = isv.api.corp_client(isv.corp_id)
    users = isv.corp["userids"][:3]
    with pytest.raises(PermissionDenied) as caught:
        client.chats.create("g", users[0], users)
    assert caught.value.errcode == 60011


def test_isv_relieved_corp_cannot_get_tokens(isv):
    client = isv.api.corp_client(isv.corp_id)
    client.users.get(isv.corp["userids"][0])
    isv.emulator.relieve(isv.key, isv.corp_id)
    # The old token is refused (40014), and fetching a new one says the corp is gone.
    with pytest.raises(PermissionDenied) as caught:
        client.users.get(isv.corp["userids"][0])
    assert (caught.value.errcode, caught.value.path) == (40079, "/service/get_corp_token")


def test_isv_legacy_corp_client_survives_an_expired_suite_token(isv):
    client = isv.api.corp_client(isv.corp_id, isv.auth["permanent_code"])
    client.users.get(isv.corp["userids"][0])
    # Both die at DingTalk while our clock still trusts them.
    isv.emulator.expire_tokens(suite_key=isv.key)
    assert client.users.get(isv.corp["userids"][0]).name
    assert isv.fetches("get_suite_token") == 2 and isv.fetches("get_corp_token") == 2


def test_isv_closing_a_corp_client_leaves_the_suites_pool_open(isv):
    pools = isv.api.transport.session.get_adapter(isv.emulator.base_url).poolmanager.pools
    with isv.api.corp_client(isv.corp_id) as client:
        client.departments.list_ids()
    # The corp client rides on the suite's pool: closing it must not drop the connections.
    assert len(pools) == 1
    with isv.api as api:
        assert api.get_corp_token(isv.corp_id).value
    assert len(pools) == 0


# Unactivated corps and re-authorization (PROTOCOL 6.9) ---------------------------------------


def test_isv_unactive_corps_are_listed_until_activated(isv):
    app_id = isv.auth["app_id"]
    other = isv.emulator.create_corp(users=2)
    isv.emulator.authorize(isv.key, other["corp_id"])
    assert isv.api.get_unactive_corp(app_id) == sorted([isv.corp_id, other["corp_id"]])
    isv.api.activate_suite(isv.corp_id, isv.auth["permanent_code"])
    assert isv.api.get_unactive_corp(app_id) == [other["corp_id"]]
    with pytest.raises(ApiError) as caught:
        isv.api.get_unactive_corp(app_id + 1)
    assert caught.value.errcode == 40086


def test_isv_unactive_corp_is_retried_as_a_read(isv):
    isv.emulator.add_fault("service/get_unactive_corp", errcode=-1, count=1)
    assert isv.api.get_unactive_corp(isv.auth["app_id"]) == [isv.corp_id]
    assert isv.emulator.counters()["calls"]["service/get_unactive_corp"] == 2


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def test_isv_reauth_corp_pushes_a_fresh_tmp_auth_code(emulator, receiver):
    corp = emulator.create_corp(users=3)
    suite = make_suite(emulator, receiver, push_style="http")
    first = emulator.authorize(suite["suite_key"], corp["corp_id"])
    api = Isv(emulator, corp, suite, first, None).new_api()
    old_code = receiver.wait_for(1)[0]["payload"]["AuthCode"]
    api.reauth_corp(first["app_id"], [corp["corp_id"]])
    (event,) = parse_callback(receiver.wait_for(2)[1]["payload"])
    assert isinstance(event, TmpAuthCodeEvent) and event.corp_id == corp["corp_id"]
    assert event.auth_code and event.auth_code != old_code
    code = api.get_permanent_code(event.auth_code)
    assert (code.corp_id, code.permanent_code) == (corp["corp_id"], first["permanent_code"])


def test_isv_reauth_corp_is_never_repeated_blindly(isv):
    with pytest.raises(ValueError):
        isv.api.reauth_corp(isv.auth["app_id"], [])
    isv.emulator.add_fault("service/reauth_corp", errcode=-1, count=1)
    with pytest.raises(TransientApiError):
        isv.api.reauth_corp(isv.auth["app_id"], [isv.corp_id])
    assert isv.emulator.counters()["calls"]["service/reauth_corp"] == 1
    isv.api.reauth_corp(isv.auth["app_id"], [isv.corp_id])
