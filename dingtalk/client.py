"""DingTalkClient: one corp's (or one internal app's) door to the old oapi.dingtalk.com API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dingtalk.api._base import AuthedCaller
from dingtalk.api.auth import Auth
from dingtalk.api.chats import Chats
from dingtalk.api.contacts import Contacts
from dingtalk.api.departments import Departments
from dingtalk.api.users import Users
from dingtalk.api.work_notices import WorkNotices
from dingtalk.retry import RetryPolicy
from dingtalk.tokens import InMemoryTokenStore, Token, TokenManager, TokenStore
from dingtalk.transport import DEFAULT_BASE_URL, Transport


def token_manager(tokens: TokenStore | TokenManager | None, *, clock: Callable[[], float],
                  refresh_ahead: float) -> TokenManager:
    """Wrap a store in a TokenManager (a private in-memory store when none is given)."""
    if isinstance(tokens, TokenManager):
        return tokens
    return TokenManager(tokens if tokens is not None else InMemoryTokenStore(),
                        refresh_ahead=refresh_ahead, clock=clock)


class DingTalkClient:
    """Typed access to the DingTalk server API for one set of credentials.

    `credentials` is any object with `cache_key` and `fetch_token(transport, clock=...)`:
    AppCredentials, CorpSecretCredentials or IsvCorpCredentials. Tokens are cached in `tokens`
    (a TokenStore or a TokenManager; shared stores let many clients share one token).
    """

    def __init__(
        self,
        credentials: Any,
        tokens: TokenStore | TokenManager | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: tuple[float, float] = (3.05, 10.0),
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
        clock: Callable[[], float] = time.time,
        refresh_ahead: float = 300.0,
        transport: Transport | None = None,
    ) -> None:
        self.credentials = credentials
        self.transport = transport or Transport(base_url, timeout=timeout, pool_size=pool_size)
        self.retry = retry or RetryPolicy()
        self.tokens = token_manager(tokens, clock=clock, refresh_ahead=refresh_ahead)
        self._clock = clock
        self.caller = AuthedCaller(self.transport, self.retry, self.tokens,
                                   credentials.cache_key, self._fetch_token)
        self.departments = Departments(self.caller)
        self.users = Users(self.caller)
        self.contacts = Contacts(self.caller)
        self.auth = Auth(self.caller)
        self.work_notices = WorkNotices(self.caller)
        self.chats = Chats(self.caller)

    def _fetch_token(self) -> Token:
        return self.credentials.fetch_token(self.transport, clock=self._clock)

    @property
    def cache_key(self) -> str:
        return self.credentials.cache_key

    def access_token(self) -> Token:
        """The current access token (cached; fetched when missing or about to expire)."""
        return self.caller.token()

    def request(self, method: str, path: str, *, params: dict | None = None,
                json: Any = None, idempotent: bool) -> dict:
        """An authenticated call to an endpoint without a typed method yet."""
        return self.caller.call(method, path, params=params, json=json, idempotent=idempotent)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> DingTalkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # The credentials mask their own secrets; no token value ever appears here.
        return f"DingTalkClient({self.credentials!r}, base_url={self.transport.base_url!r})"
