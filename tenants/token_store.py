"""DingTalk tokens shared across processes: Redis for speed and the lock, the database to last.

`SharedTokenStore` implements dingtalk's TokenStore. Redis holds the live copy of every token,
encrypted like the database copy (token_codec.py), and the per-key fetch lock (SET NX PX with
a random owner, released by an owner-checked Lua compare-and-delete). The AccessToken table
keeps an encrypted durable copy (`DurableTokens`), so a Redis flush costs no fetch at all: the
next lock holder copies the row back into Redis before the TokenManager re-checks. Only lock
holders and the one thread that wins an invalidation touch the database, which keeps the number
of PostgreSQL connections flat under many threads. Token values never appear in a log line.

One fallback serves both "Redis is down" and "REDIS_URL is unset": the fetch lock becomes a
PostgreSQL advisory lock (`DatabaseLock`), so neither an outage nor a Redis-free deployment
multiplies token fetches. On SQLite (the one-process demo only) it is a process-local lock.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Iterator

import redis
from django.conf import settings

from core import clock
from core.redis import redis_client
from dingtalk.tokens import InMemoryTokenStore, Token
from tenants.token_backing import DatabaseLock, DurableTokens
from tenants.token_codec import (
    COMPARE_DELETE_LUA,
    RELEASE_LUA,
    token_decode,
    token_digest,
    token_encode,
)

logger = logging.getLogger("tenants.tokens")

# LocalTokenStore's fast path: a token another thread of this process just stored is used
# without the database lock when it has at least this long to live. It is longer than any
# TokenManager's refresh-ahead (300 s for tokens, IDENTITY_JSAPI_REFRESH_AHEAD_S for jsapi
# tickets), so the fast path never hands back a token the manager would then fetch again
# outside the lock.
_FAST_PATH_FRESH_S = 3600.0


class SharedTokenStore:
    """dingtalk's TokenStore over Redis (cache + lock) and the AccessToken table (durable)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "dingsuite:",
        lock_lease: float = 30.0,
        tombstone_ttl: float = 3600.0,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.lock_lease = lock_lease
        self.tombstone_ttl = tombstone_ttl
        self.durable = DurableTokens()
        self.fallback_lock = DatabaseLock()
        self._release = client.register_script(RELEASE_LUA)
        self._compare_delete = client.register_script(COMPARE_DELETE_LUA)

    def __repr__(self) -> str:
        return f"SharedTokenStore(prefix={self.prefix!r})"

    def _k(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    def get(self, key: str) -> Token | None:
        try:
            raw = self.redis.get(self._k("token", key))
        except redis.RedisError:
            logger.warning("redis unavailable reading token %s; using the database", key)
            return self.durable.get(key)
        return None if raw is None else token_decode(raw)

    def set(self, key: str, token: Token) -> None:
        self.durable.set(key, token)
        ttl_ms = max(1, int((token.expires_at - clock.time()) * 1000))
        try:
            self.redis.set(self._k("token", key), token_encode(token), px=ttl_ms)
        except redis.RedisError:
            logger.warning("redis unavailable storing token %s; kept in the database", key)

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        if only_if_value is None:
            with contextlib.suppress(redis.RedisError):
                self.redis.delete(self._k("token", key))
            self.durable.delete(key)
            return
        try:
            outcome = self._compare_delete(
                keys=[self._k("token", key), self._k("revoked", key)],
                args=[token_digest(only_if_value), int(self.tombstone_ttl * 1000)],
            )
        except redis.RedisError:
            outcome = -1
        if outcome in (1, -1):
            self.durable.delete_if(key, only_if_value)

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[bool]:
        owner = secrets.token_hex(16)
        lock_key = self._k("lock", key)
        try:
            acquired = self._acquire(lock_key, owner, timeout)
        except redis.RedisError:
            logger.warning("redis unavailable: token lock %s taken in the database instead", key)
            with self.fallback_lock.hold(key, timeout=timeout) as acquired:
                yield acquired
            return
        try:
            if acquired:
                self._warm_from_db(key)
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(redis.RedisError):
                    self._release(keys=[lock_key], args=[owner])

    def _acquire(self, lock_key: str, owner: str, timeout: float) -> bool:
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.002
        lease_ms = int(max(self.lock_lease, timeout) * 1000)
        while True:
            if self.redis.set(lock_key, owner, nx=True, px=lease_ms):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Lock waits are short (one HTTP round trip), so poll quickly with a small cap.
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.02)

    def _warm_from_db(self, key: str) -> None:
        """Copy a still-valid durable token back into Redis (after a flush), never over a newer.

        A Redis value this process cannot read (plain, or sealed with a retired key) counts as
        missing, so it is replaced instead of costing a fetch.
        """
        token_key = self._k("token", key)
        try:
            cached = self.redis.get(token_key)
            if cached is not None and token_decode(cached) is not None:
                return
            revoked = self.redis.get(self._k("revoked", key))
        except redis.RedisError:
            return
        token = self.durable.get(key)
        if token is None:
            return
        if revoked is not None and revoked.decode() == token_digest(token.value):
            self.durable.delete_if(key, token.value)
            return
        ttl_ms = max(1, int((token.expires_at - clock.time()) * 1000))
        with contextlib.suppress(redis.RedisError):
            if cached is not None:
                self.redis.delete(token_key)
            self.redis.set(token_key, token_encode(token), px=ttl_ms, nx=True)


class LocalTokenStore:
    """No Redis: a process-local cache over the durable table, with the database fetch lock.

    The cache is per process, the lock is PostgreSQL's, so a Redis-free deployment still
    fetches each token once across processes. As with Redis, only lock holders touch the
    database: threads of one process queue on a local lock first; the holder drops a durable
    copy this process saw DingTalk refuse (the revoked digests play the Redis tombstones' part),
    otherwise copies it into the cache, before the TokenManager re-checks.
    """

    lock_lease = 30.0

    def __init__(self) -> None:
        self.memory = InMemoryTokenStore()
        self.durable = DurableTokens()
        self.db_lock = DatabaseLock()
        self._revoked: dict[str, str] = {}

    def __repr__(self) -> str:
        return "LocalTokenStore()"

    def get(self, key: str) -> Token | None:
        token = self.memory.get(key)
        if token is not None and token.expires_at > clock.time():
            return token
        return None

    def set(self, key: str, token: Token) -> None:
        self.durable.set(key, token)
        self.memory.set(key, token)
        self._revoked.pop(key, None)

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        self.memory.delete(key, only_if_value=only_if_value)
        if only_if_value is None:
            self.durable.delete(key)
        else:
            self._revoked[key] = token_digest(only_if_value)

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[bool]:
        deadline = time.monotonic() + max(timeout, 0.0)
        with self.memory.lock(key, timeout=timeout) as local:
            if not local:
                yield False
                return
            cached = self.memory.get(key)
            if cached is not None and cached.is_fresh(clock.time(), margin=_FAST_PATH_FRESH_S):
                # The thread before us in this process stored a fresh token: the TokenManager's
                # re-check will use it, no database lock needed.
                yield True
                return
            remaining = max(deadline - time.monotonic(), 0.0)
            with self.db_lock.hold(key, timeout=remaining) as acquired:
                if acquired and self.get(key) is None:
                    self._warm_from_db(key)
                yield acquired

    def _warm_from_db(self, key: str) -> None:
        durable = self.durable.get(key)
        if durable is None:
            return
        if self._revoked.get(key) == token_digest(durable.value):
            self.durable.delete_if(key, durable.value)
            return
        self.memory.set(key, durable)


_stores: dict[str, SharedTokenStore | LocalTokenStore] = {}


def token_store() -> SharedTokenStore | LocalTokenStore:
    """The process-wide store: shared through settings.REDIS_URL, or local without it."""
    url = settings.REDIS_URL
    store = _stores.get(url)
    if store is None:
        new = SharedTokenStore(redis_client(url)) if url else LocalTokenStore()
        store = _stores.setdefault(url, new)
    return store
