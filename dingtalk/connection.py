"""What DingTalkClient and SuiteApi are both wired from: pool, retry policy, tokens and clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self, TypedDict

from dingtalk.retry import RetryPolicy
from dingtalk.tokens import InMemoryTokenStore, TokenManager, TokenStore
from dingtalk.transport import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Transport


class ConnectionOptions(TypedDict, total=False):
    """The keyword options DingTalkClient and SuiteApi accept (see Connection)."""

    base_url: str
    timeout: tuple[float, float]
    retry: RetryPolicy | None
    pool_size: int
    clock: Callable[[], float]
    refresh_ahead: float
    transport: Transport | None


def token_manager(tokens: TokenStore | TokenManager | None, *, clock: Callable[[], float],
                  refresh_ahead: float) -> TokenManager:
    """Wrap a store in a TokenManager (a private in-memory store when none is given)."""
    if isinstance(tokens, TokenManager):
        return tokens
    return TokenManager(tokens if tokens is not None else InMemoryTokenStore(),
                        refresh_ahead=refresh_ahead, clock=clock)


class Connection:
    """One pooled transport, the retry policy, the token manager and the clock.

    A given `transport` is shared, not owned: closing this object leaves it open (a corp
    client made by SuiteApi.corp_client rides on the suite's pool).
    """

    def __init__(
        self,
        tokens: TokenStore | TokenManager | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
        clock: Callable[[], float] = time.time,
        refresh_ahead: float = 300.0,
        transport: Transport | None = None,
    ) -> None:
        self._owns_transport = transport is None
        self.transport = transport or Transport(base_url, timeout=timeout, pool_size=pool_size)
        self.retry = retry or RetryPolicy()
        self.tokens = token_manager(tokens, clock=clock, refresh_ahead=refresh_ahead)
        self._clock = clock

    def close(self) -> None:
        """Close the connection pool, unless it was handed in by someone else."""
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
