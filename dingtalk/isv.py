"""SuiteApi: an ISV suite's own calls (suite token, activation, auth info) and its corp clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Unpack

from dingtalk.api._base import AuthedCaller, required
from dingtalk.api.market import ORDER_PATH, MarketOrder
from dingtalk.client import DingTalkClient
from dingtalk.connection import Connection, ConnectionOptions
from dingtalk.credentials import IsvCorpCredentials, SuiteCredentials
from dingtalk.errors import BadResponse, TokenError
from dingtalk.newapi import NewApiCaller, NewApiTransport, new_api_base_url
from dingtalk.repeat import is_safe_to_repeat
from dingtalk.tokens import Token, TokenManager, TokenStore
from dingtalk.transport import Transport


@dataclass(frozen=True)
class PermanentCode:
    """get_permanent_code's answer (legacy flow). The code is a secret: repr hides it."""

    corp_id: str
    corp_name: str
    permanent_code: str = field(repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AuthAgent:
    """One app of the suite inside the authorizing corp (agent ids differ per corp)."""

    agent_id: int
    app_id: int | None
    name: str
    admins: tuple[str, ...] = ()
    logo_url: str | None = None


@dataclass(frozen=True)
class AuthInfo:
    """get_auth_info: the corp, the suite's agents there, and the admin who authorized."""

    corp_id: str
    corp_name: str
    agents: tuple[AuthAgent, ...]
    auth_user_id: str | None = None
    full_corp_name: str | None = None
    auth_level: int | None = None
    is_authenticated: bool | None = None
    industry: str | None = None
    license_code: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuthInfo:
        corp = body.get("auth_corp_info") or {}
        agents = tuple(
            AuthAgent(agent_id=int(a["agentid"]),
                      app_id=None if a.get("appid") is None else int(a["appid"]),
                      name=str(a.get("agent_name", "")),
                      admins=tuple(str(u) for u in a.get("admin_list") or ()),
                      logo_url=a.get("logo_url"))
            for a in (body.get("auth_info") or {}).get("agent") or ()
        )
        level = corp.get("auth_level")
        return cls(corp_id=str(corp.get("corpid", "")), corp_name=str(corp.get("corp_name", "")),
                   agents=agents, auth_user_id=(body.get("auth_user_info") or {}).get("userId"),
                   full_corp_name=corp.get("full_corp_name"),
                   auth_level=None if level is None else int(level),
                   is_authenticated=corp.get("is_authenticated"),
                   industry=corp.get("industry"), license_code=corp.get("license_code"),
                   raw=dict(body))


@dataclass(frozen=True)
class Agent:
    """get_agent: close is 0 disabled, 1 normal, 2 awaiting activation."""

    agent_id: int
    name: str
    close: int | None
    description: str | None = None
    logo_url: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.close == 1


@dataclass(frozen=True)
class _LegacyCorpCredentials:
    """The permanent-code form of get_corp_token, surviving a suite token DingTalk refuses.

    That form carries the suite_access_token, which may die at DingTalk before our clock says
    so: drop it (compare-and-delete), fetch a new one and ask once more.
    """

    inner: IsvCorpCredentials
    api: SuiteApi = field(repr=False)

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    def fetch_token(self, transport: Transport, *,
                    clock: Callable[[], float] = time.time) -> Token:
        suite_token = self.api.suite_access_token()
        try:
            return self.inner.fetch_token(transport, clock=clock)
        except TokenError:
            self.api.tokens.invalidate(self.api.suite.cache_key, suite_token.value)
            return self.inner.fetch_token(transport, clock=clock)


class SuiteApi(Connection):
    """The suite-level service/* API. Tokens go in the same store as the corp clients'.

    The keyword options (base_url, timeout, retry, pool_size, clock, refresh_ahead,
    transport) are Connection's. New-API calls (api.dingtalk.com) go to `new_api_base_url`,
    by default the host that goes with the old-API base URL (dingtalk.newapi), on the same
    connection pool, gate and observer; `new_api_transport` replaces that transport.
    """

    def __init__(self, suite: SuiteCredentials, tokens: TokenStore | TokenManager | None = None,
                 *, new_api_base_url: str | None = None,
                 new_api_transport: NewApiTransport | None = None,
                 **options: Unpack[ConnectionOptions]) -> None:
        super().__init__(tokens, **options)
        self.suite = suite
        self._caller = AuthedCaller(
            self.transport, self.retry, self.tokens, suite.cache_key,
            lambda: suite.fetch_token(self.transport, clock=self._clock),
            token_param="suite_access_token")
        self.new_api = new_api_transport or NewApiTransport(
            new_api_base_url or _new_api_base(self.transport.base_url),
            timeout=self.transport.timeout, session=self.transport.session,
            hooks=self.transport)
        self._new_caller = NewApiCaller(self.new_api, self.retry, self.tokens, suite.cache_key,
                                        self._caller.token)

    def __repr__(self) -> str:
        return f"SuiteApi({self.suite!r}, base_url={self.transport.base_url!r})"

    def suite_access_token(self) -> Token:
        """The suite_access_token (cached under the suite key).

        Doc: obtains-the-suite-access-token (service/get_suite_token).
        """
        return self._caller.token()

    def get_permanent_code(self, tmp_auth_code: str) -> PermanentCode:
        """Trade a single-use tmp_auth_code for the corp's permanent code (legacy flow).

        Not retried on transport errors: the code may already be spent.
        Doc: obtain-a-permanent-authorization-code (service/get_permanent_code).
        """
        path = "service/get_permanent_code"
        body = self._caller.post(path, {"tmp_auth_code": tmp_auth_code})
        corp = body.get("auth_corp_info") or {}
        return PermanentCode(corp_id=str(corp.get("corpid", "")),
                             corp_name=str(corp.get("corp_name", "")),
                             permanent_code=str(required(body, "permanent_code", path)),
                             raw=dict(body))

    def activate_suite(self, corp_id: str, permanent_code: str) -> None:
        """Activate the suite in a corp (legacy flow; activating twice is harmless).

        Doc: activate-suite (service/activate_suite).
        """
        self._caller.post("service/activate_suite", {
            "suite_key": self.suite.suite_key, "auth_corpid": corp_id,
            "permanent_code": permanent_code})

    def get_unactive_corp(self, app_id: int) -> list[str]:
        """Corp ids that authorized the app but were never activated (legacy flow).

        DingTalk documents no paging parameter: has_more is read but cannot be followed.
        Doc: PROTOCOL 6.9 (service/get_unactive_corp).
        """
        path = "service/get_unactive_corp"
        body = self._caller.post(path, {"app_id": int(app_id)})
        corps = required(body, "corp_list", path)
        if not isinstance(corps, list):
            raise BadResponse(f"{path}: corp_list is not a list", status_code=200, path=path)
        return [str(c) for c in corps]

    def reauth_corp(self, app_id: int, corp_ids: Iterable[str]) -> None:
        """Ask DingTalk to push a fresh tmp_auth_code for each listed corp (legacy flow).

        Not retried on transport errors: every accepted call makes DingTalk push again.
        Doc: PROTOCOL 6.9 (service/reauth_corp).
        """
        corp_list = [str(c) for c in corp_ids]
        if not corp_list:
            raise ValueError("corp_ids must name at least one corp")
        # PROTOCOL 6.9: this endpoint's app_id is a string, get_unactive_corp's a number.
        self._caller.post("service/reauth_corp", {"app_id": str(app_id),
                                                  "corpid_list": corp_list})

    def corp_credentials(self, corp_id: str,
                         permanent_code: str | None = None) -> IsvCorpCredentials:
        """Credentials for a corp token: the legacy form with a permanent code, else signed."""
        if permanent_code is None:
            return IsvCorpCredentials(self.suite, corp_id)
        return IsvCorpCredentials(self.suite, corp_id, permanent_code,
                                  suite_access_token=lambda: self.suite_access_token().value)

    def get_corp_token(self, corp_id: str, permanent_code: str | None = None) -> Token:
        """A corp access token, from the shared cache or freshly fetched.

        Doc: obtain-the-access_token-of-the-authorized-enterprise (service/get_corp_token).
        """
        creds = self._token_credentials(corp_id, permanent_code)
        safe = is_safe_to_repeat("service/get_corp_token")
        return self.tokens.get(creds.cache_key, lambda: self.retry.call(
            lambda: creds.fetch_token(self.transport, clock=self._clock), idempotent=safe))

    def get_auth_info(self, corp_id: str, permanent_code: str | None = None) -> AuthInfo:
        """The corp's authorization: corp info, the suite's agents there, the admin.

        Signed request by default; the legacy suite_access_token form with a permanent code.
        Doc: obtains-the-basic-information-of-an-enterprise (service/get_auth_info).
        """
        body: dict[str, Any] = {"auth_corpid": corp_id, "suite_key": self.suite.suite_key}
        if permanent_code is not None:
            body["permanent_code"] = permanent_code
            answer = self._caller.post("service/get_auth_info", body)
        else:
            answer = self.retry.call(
                lambda: self.transport.request("POST", "service/get_auth_info",
                                               params=self._signature(), json=body),
                idempotent=is_safe_to_repeat("service/get_auth_info"))
        return AuthInfo.from_body(answer)

    def get_agent(self, corp_id: str, agent_id: int,
                  permanent_code: str | None = None) -> Agent:
        """One agent (app) of the suite in a corp, with its open/closed state.

        Doc: obtains-the-basic-information-of-an-authorized-application (service/get_agent).
        """
        body: dict[str, Any] = {"agentid": int(agent_id), "auth_corpid": corp_id,
                                "suite_key": self.suite.suite_key}
        params = None
        if permanent_code is not None:
            body["permanent_code"] = permanent_code
        else:
            params = self._signature()
        answer = self._caller.post("service/get_agent", body, params=params)
        close = answer.get("close")
        return Agent(agent_id=int(answer.get("agentid", agent_id)),
                     name=str(answer.get("name", "")),
                     close=None if close is None else int(close),
                     description=answer.get("description"), logo_url=answer.get("logo_url"),
                     raw=dict(answer))

    def market_order(self, order_id: str) -> MarketOrder:
        """One app-market order, to verify a pushed order before granting anything.

        NewApiError with code `order.not.exist`, `illegal.order.principle` (another ISV's
        order) or `goods.not.app` (HTTP 400) when DingTalk refuses.
        Doc: KB/0888 (GET api.dingtalk.com/v1.0/appMarket/orders/{orderId}, suite token).
        """
        body = self._new_caller.call("GET", ORDER_PATH, path_params={"orderId": order_id})
        return MarketOrder.from_body(body)

    def corp_client(self, corp_id: str, permanent_code: str | None = None) -> DingTalkClient:
        """A DingTalkClient for one authorized corp, sharing this API's pool and token store."""
        return DingTalkClient(self._token_credentials(corp_id, permanent_code), self.tokens,
                              retry=self.retry, clock=self._clock, transport=self.transport)

    def _token_credentials(self, corp_id: str, permanent_code: str | None):
        creds = self.corp_credentials(corp_id, permanent_code)
        return _LegacyCorpCredentials(creds, self) if creds.legacy else creds

    def _signature(self) -> dict[str, str]:
        # Signed with the host's real clock: DingTalk checks it within 60 s of its own time.
        return self.suite.signature_params()


def _new_api_base(oapi_base_url: str) -> str:
    return new_api_base_url(oapi_base_url)
