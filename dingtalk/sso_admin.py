"""Admin-console SSO (应用管理后台免登, PROTOCOL-ISV 1.3) with the ISV's own corp id + SSOSecret:
the sso token (GET /sso/gettoken) and the admin a code belongs to (GET /sso/getuserinfo).

    api = SsoAdminApi(SsoCredentials("dingISVcorp", "<SSOSecret>"), store)
    admin = api.getuserinfo(code)   # SsoAdmin: userid, name, email, avatar, is_sys, corp_id

The sso token is a token like any other: cached in the TokenStore under `sso:<corpid>`, fetched
once under the store's lock, dropped and fetched again when DingTalk refuses it (40014).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, Unpack

from dingtalk.api._base import AuthedCaller, required
from dingtalk.connection import Connection, ConnectionOptions
from dingtalk.credentials import token_from
from dingtalk.errors import BadResponse
from dingtalk.tokens import Token, TokenManager, TokenStore

# KB/0013: an invalid, used or expired admin-console code ("无效的ssocode").
SSO_CODE_INVALID = 41007


def sso_token_key(corp_id: str) -> str:
    """Cache key of an ISV corp's sso token."""
    return f"sso:{corp_id}"


class _Requester(Protocol):
    def request(self, method: str, path: str, *, params: Any = None,
                json: Any = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SsoCredentials:
    """The ISV's own corp id and SSOSecret (dev console: 基本信息 -> 开发信息（旧版）)."""

    corp_id: str
    sso_secret: str = field(repr=False)

    @property
    def cache_key(self) -> str:
        return sso_token_key(self.corp_id)

    def fetch_token(self, transport: _Requester, *,
                    clock: Callable[[], float] = time.time) -> Token:
        """A fresh sso token: `GET /sso/gettoken?corpid&corpsecret`.

        Its lifetime is not documented and the answer has no expires_in: 7200 s is assumed,
        and a token DingTalk refuses earlier is fetched again by the caller.
        """
        path = "/sso/gettoken"
        body = transport.request("GET", path, params={"corpid": self.corp_id,
                                                      "corpsecret": self.sso_secret})
        return token_from(body, "access_token", path, clock)

@dataclass(frozen=True)
class SsoAdmin:
    """Who opened the app from the admin console, and the customer corp they came from."""

    userid: str
    name: str
    email: str
    avatar: str
    is_sys: bool
    corp_id: str
    corp_name: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SsoAdmin:
        user = body.get("user_info") or {}
        corp = body.get("corp_info") or {}
        return cls(userid=str(user.get("userid") or ""), name=str(user.get("name") or ""),
                   email=str(user.get("email") or ""), avatar=str(user.get("avatar") or ""),
                   is_sys=bool(body.get("is_sys")), corp_id=str(corp.get("corpid") or ""),
                   corp_name=str(corp.get("corp_name") or ""), raw=dict(body))


class SsoAdminApi(Connection):
    """The two legacy admin-console SSO calls for one ISV corp.

    The keyword options (base_url, timeout, retry, pool_size, clock, refresh_ahead,
    transport) are Connection's.
    """

    def __init__(self, credentials: SsoCredentials,
                 tokens: TokenStore | TokenManager | None = None,
                 **options: Unpack[ConnectionOptions]) -> None:
        super().__init__(tokens, **options)
        self.credentials = credentials
        self._caller = AuthedCaller(
            self.transport, self.retry, self.tokens, credentials.cache_key,
            lambda: credentials.fetch_token(self.transport, clock=self._clock))

    def __repr__(self) -> str:
        return f"SsoAdminApi({self.credentials!r}, base_url={self.transport.base_url!r})"

    def sso_token(self) -> Token:
        """The sso token (cached under `sso:<corpid>`).

        Doc: KB/1449 (sso/gettoken).
        """
        return self._caller.token()

    def getuserinfo(self, code: str) -> SsoAdmin:
        """The admin an admin-console code belongs to; the code is single use (41007 after).

        Never repeated after a lost answer (dingtalk.repeat): the code may be spent.
        Doc: KB/1450 (sso/getuserinfo).
        """
        path = "sso/getuserinfo"
        body = self._caller.get(path, {"code": code})
        user = required(body, "user_info", path)
        corp = required(body, "corp_info", path)
        if not isinstance(user, dict) or not user.get("userid") or not isinstance(corp, dict) \
                or not corp.get("corpid"):
            raise BadResponse(f"{path}: answer has no userid or corpid", status_code=200,
                              path=path)
        return SsoAdmin.from_body(body)
