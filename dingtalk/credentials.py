"""Who the client is, and how each kind of credential fetches its access token."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dingtalk import signing
from dingtalk.errors import BadResponse
from dingtalk.tokens import (
    Token,
    app_token_key,
    corpsecret_token_key,
    isv_corp_token_key,
    suite_token_key,
)

# 2016 gettoken answers had no expires_in; every token documented since lives 7200 s.
DEFAULT_EXPIRES_IN = 7200


class _Requester(Protocol):
    def request(self, method: str, path: str, *, params: Any = None,
                json: Any = None) -> dict[str, Any]: ...


def token_from(body: dict[str, Any], field_name: str, path: str,
               clock: Callable[[], float]) -> Token:
    """The token in a token endpoint's answer (its lifetime from expires_in, 7200 s when the
    answer has none or an unreadable one); BadResponse when the answer carries no token."""
    value = body.get(field_name)
    if not isinstance(value, str) or not value:
        raise BadResponse(f"{path}: answer has no {field_name}", status_code=200, path=path)
    try:
        expires_in = float(body.get("expires_in", DEFAULT_EXPIRES_IN))
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    return Token(value=value, expires_at=clock() + expires_in)


@dataclass(frozen=True)
class AppCredentials:
    """An internal app (appkey/appsecret): `GET /gettoken?appkey&appsecret`."""

    appkey: str
    appsecret: str = field(repr=False)

    @property
    def cache_key(self) -> str:
        return app_token_key(self.appkey)

    def fetch_token(self, transport: _Requester, *,
                    clock: Callable[[], float] = time.time) -> Token:
        """A fresh access_token (DingTalk returns the same one until it expires)."""
        body = transport.request("GET", "/gettoken",
                                 params={"appkey": self.appkey, "appsecret": self.appsecret})
        return token_from(body, "access_token", "/gettoken", clock)


@dataclass(frozen=True)
class CorpSecretCredentials:
    """A legacy corp secret: `GET /gettoken?corpid&corpsecret`."""

    corpid: str
    corpsecret: str = field(repr=False)

    @property
    def cache_key(self) -> str:
        return corpsecret_token_key(self.corpid)

    def fetch_token(self, transport: _Requester, *,
                    clock: Callable[[], float] = time.time) -> Token:
        """A fresh access_token for the corp."""
        body = transport.request("GET", "/gettoken",
                                 params={"corpid": self.corpid, "corpsecret": self.corpsecret})
        return token_from(body, "access_token", "/gettoken", clock)


@dataclass(frozen=True)
class SuiteCredentials:
    """A third-party suite; `ticket` returns the latest pushed suite_ticket."""

    suite_key: str
    suite_secret: str = field(repr=False)
    ticket: Callable[[], str] = field(repr=False, compare=False)

    @property
    def cache_key(self) -> str:
        return suite_token_key(self.suite_key)

    def signature_params(self) -> dict[str, str]:
        """accessKey/timestamp/suiteTicket/signature for a signed ISV call, signed now."""
        return signing.signature_params(access_key=self.suite_key, secret=self.suite_secret,
                                        ticket=self.ticket())

    def fetch_token(self, transport: _Requester, *,
                    clock: Callable[[], float] = time.time) -> Token:
        """A fresh suite_access_token: `POST /service/get_suite_token`."""
        path = "/service/get_suite_token"
        body = transport.request("POST", path, json={
            "suite_key": self.suite_key,
            "suite_secret": self.suite_secret,
            "suite_ticket": self.ticket(),
        })
        return token_from(body, "suite_access_token", path, clock)


@dataclass(frozen=True)
class IsvCorpCredentials:
    """A suite acting in one authorised corp: `POST /service/get_corp_token`.

    The signature form (accessKey, timestamp, suiteTicket, signature; body auth_corpid) is the
    default; the legacy form (?suite_access_token; body auth_corpid + permanent_code) is used
    when both a permanent code and a suite_access_token provider are given.
    """

    suite: SuiteCredentials
    corp_id: str
    permanent_code: str | None = field(default=None, repr=False)
    suite_access_token: Callable[[], str] | None = field(default=None, repr=False,
                                                         compare=False)

    @property
    def cache_key(self) -> str:
        return isv_corp_token_key(self.suite.suite_key, self.corp_id)

    @property
    def legacy(self) -> bool:
        """True when tokens come from the permanent-code form."""
        return bool(self.permanent_code) and self.suite_access_token is not None

    def fetch_token(self, transport: _Requester, *,
                    clock: Callable[[], float] = time.time) -> Token:
        """A fresh corp access_token (DingTalk issues a new one on every call)."""
        path = "/service/get_corp_token"
        if self.legacy:
            assert self.suite_access_token is not None
            params = {"suite_access_token": self.suite_access_token()}
            payload = {"auth_corpid": self.corp_id, "permanent_code": self.permanent_code}
        else:
            params = self.suite.signature_params()
            payload = {"auth_corpid": self.corp_id}
        body = transport.request("POST", path, params=params, json=payload)
        return token_from(body, "access_token", path, clock)
