"""Access-token caching: the Token value, the store protocol, and the single-flight manager."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (epoch seconds)."""

    value: str = field(repr=False)
    expires_at: float

    def __repr__(self) -> str:
        return f"Token(value=***, expires_at={self.expires_at!r})"

    def is_fresh(self, now: float, *, margin: float = 0.0) -> bool:
        """True while more than `margin` seconds of validity remain."""
        return self.expires_at - margin > now


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens live between calls (memory, Redis, the database)."""

    def get(self, key: str) -> Token | None: ...

    def set(self, key: str, token: Token) -> None: ...

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        """Drop the token; with `only_if_value`, only if the stored value is still that one."""

    def lock(self, key: str, *, timeout: float) -> contextlib.AbstractContextManager[bool]:
        """Hold the per-key fetch lock; yields True if acquired within `timeout`."""


class InMemoryTokenStore:
    """A process-local store: single-flight per key across the threads of one process."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryTokenStore(keys={len(self._tokens)})"

    def get(self, key: str) -> Token | None:
        with self._mutex:
            return self._tokens.get(key)

    def set(self, key: str, token: Token) -> None:
        with self._mutex:
            self._tokens[key] = token

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        with self._mutex:
            current = self._tokens.get(key)
            if current is None:
                return
            if only_if_value is None or current.value == only_if_value:
                del self._tokens[key]

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[bool]:
        with self._mutex:
            key_lock = self._locks.setdefault(key, threading.Lock())
        acquired = key_lock.acquire(timeout=max(timeout, 0))
        try:
            yield acquired
        finally:
            if acquired:
                key_lock.release()


class TokenManager:
    """Hands out cached tokens, fetching at most once per key at a time.

    A token counts as stale `refresh_ahead` seconds before it expires, so calls never carry
    a token that dies in flight. `refresh_ahead` must be shorter than the token lifetime.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        refresh_ahead: float = 300.0,
        clock: Callable[[], float] = time.time,
        lock_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.refresh_ahead = refresh_ahead
        self.clock = clock
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"TokenManager(store={self.store!r}, refresh_ahead={self.refresh_ahead})"

    def _usable(self, token: Token | None) -> bool:
        return token is not None and token.is_fresh(self.clock(), margin=self.refresh_ahead)

    def get(self, key: str, fetch: Callable[[], Token]) -> Token:
        """The cached token for `key`, fetched with `fetch` under the key's lock if stale."""
        token = self.store.get(key)
        if self._usable(token):
            return token
        with self.store.lock(key, timeout=self.lock_timeout) as acquired:
            # Whoever held the lock before us has probably just stored a fresh token.
            token = self.store.get(key)
            if self._usable(token):
                return token
            if not acquired:
                logger.warning("token lock for %s not acquired within %.1f s; fetching anyway",
                               key, self.lock_timeout)
            return self._fetch(key, fetch, token)

    def _fetch(self, key: str, fetch: Callable[[], Token], old: Token | None) -> Token:
        try:
            token = fetch()
        except Exception:
            # Refresh-ahead failed but the old token still works: use it, retry next call.
            if old is not None and old.is_fresh(self.clock()):
                logger.warning("refreshing token %s failed; using the current one", key,
                               exc_info=True)
                return old
            raise
        self.store.set(key, token)
        return token

    def invalidate(self, key: str, bad_value: str) -> None:
        """Drop the token DingTalk refused, unless another thread already replaced it."""
        self.store.delete(key, only_if_value=bad_value)


def suite_token_key(suite_key: str) -> str:
    """Cache key of a suite_access_token."""
    return f"suite:{suite_key}"


def isv_corp_token_key(suite_key: str, corp_id: str) -> str:
    """Cache key of an ISV corp access_token (one per suite and corp)."""
    return f"suite:{suite_key}:corp:{corp_id}"


def app_token_key(appkey: str) -> str:
    """Cache key of an internal app's access_token (an appkey belongs to one corp)."""
    return f"app:{appkey}"


def corpsecret_token_key(corpid: str) -> str:
    """Cache key of a legacy corpid/corpsecret access_token."""
    return f"corpsecret:{corpid}"
