"""DingTalk tokens shared across processes: Redis for speed and the lock, PostgreSQL to last.

`SharedTokenStore` implements dingtalk's TokenStore. Redis holds the live copy of every token,
encrypted like the database copy (token_codec.py), and the per-key fetch lock (SET NX PX with
a random owner, released by an owner-checked Lua compare-and-delete). The AccessToken table
keeps an encrypted durable copy, so a Redis flush costs no fetch at all: the next lock holder
copies the row back into Redis before the TokenManager re-checks. Only lock holders and the one
thread that wins an invalidation touch the database, which keeps the number of PostgreSQL
connections flat under many threads. Token values never appear in a log line.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.utils import timezone

from dingtalk.tokens import InMemoryTokenStore, Token, isv_corp_token_key
from tenants.errors import TenantInactive
from tenants.models import AccessToken, Suite, Tenant
from tenants.services.token_codec import (
    COMPARE_DELETE_LUA,
    RELEASE_LUA,
    token_decode,
    token_digest,
    token_encode,
)

logger = logging.getLogger("tenants.tokens")

def _parse_key(key: str) -> tuple[str, str | None] | None:
    """(suite_key, corp_id or None) for the suite and ISV-corp keys; None for other keys."""
    parts = key.split(":")
    if len(parts) == 2 and parts[0] == "suite":
        return parts[1], None
    if len(parts) == 4 and parts[0] == "suite" and parts[2] == "corp":
        return parts[1], parts[3]
    return None


class SharedTokenStore:
    """dingtalk's TokenStore over Redis (cache + lock) and the AccessToken table (durable)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "dingsuite:",
        lock_lease: float = 30.0,
        tombstone_ttl: float = 3600.0,
        clock=time.time,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.lock_lease = lock_lease
        self.tombstone_ttl = tombstone_ttl
        self.clock = clock
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
            return self._db_get(key)
        return None if raw is None else token_decode(raw)

    def set(self, key: str, token: Token) -> None:
        self._db_set(key, token)
        ttl_ms = max(1, int((token.expires_at - self.clock()) * 1000))
        try:
            self.redis.set(self._k("token", key), token_encode(token), px=ttl_ms)
        except redis.RedisError:
            logger.warning("redis unavailable storing token %s; kept in the database", key)

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        if only_if_value is None:
            with contextlib.suppress(redis.RedisError):
                self.redis.delete(self._k("token", key))
            AccessToken.objects.filter(key=key).delete()
            return
        try:
            outcome = self._compare_delete(
                keys=[self._k("token", key), self._k("revoked", key)],
                args=[token_digest(only_if_value), int(self.tombstone_ttl * 1000)],
            )
        except redis.RedisError:
            outcome = -1
        if outcome in (1, -1):
            self._db_delete_if(key, only_if_value)

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[bool]:
        owner = secrets.token_hex(16)
        lock_key = self._k("lock", key)
        acquired = self._acquire(lock_key, owner, timeout)
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
            try:
                if self.redis.set(lock_key, owner, nx=True, px=lease_ms):
                    return True
            except redis.RedisError:
                logger.warning("redis unavailable: token lock %s not taken", lock_key)
                return False
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
        token = self._db_get(key)
        if token is None:
            return
        if revoked is not None and revoked.decode() == token_digest(token.value):
            self._db_delete_if(key, token.value)
            return
        ttl_ms = max(1, int((token.expires_at - self.clock()) * 1000))
        with contextlib.suppress(redis.RedisError):
            if cached is not None:
                self.redis.delete(token_key)
            self.redis.set(token_key, token_encode(token), px=ttl_ms, nx=True)

    def _db_get(self, key: str) -> Token | None:
        row = AccessToken.objects.filter(key=key).first()
        if row is None or row.expires_at <= timezone.now():
            return None
        return Token(value=row.value, expires_at=row.expires_at.timestamp())

    def _db_set(self, key: str, token: Token) -> None:
        parsed = _parse_key(key)
        if parsed is None:
            return
        suite_key, corp_id = parsed
        suite = Suite.objects.filter(suite_key=suite_key).first()
        if suite is None:
            return
        tenant = None
        if corp_id is not None:
            tenant = Tenant.objects.filter(suite=suite, corp_id=corp_id).first()
        AccessToken.objects.update_or_create(key=key, defaults={
            "kind": AccessToken.Kind.CORP if corp_id else AccessToken.Kind.SUITE,
            "suite": suite, "tenant": tenant, "value": token.value,
            "expires_at": datetime.fromtimestamp(token.expires_at, tz=UTC),
        })

    def _db_delete_if(self, key: str, value: str) -> None:
        row = AccessToken.objects.filter(key=key).first()
        if row is not None and secrets.compare_digest(row.value, value):
            # fetched_at changes on every save, so a row replaced meanwhile survives.
            AccessToken.objects.filter(pk=row.pk, fetched_at=row.fetched_at).delete()


class LocalTokenStore(SharedTokenStore):
    """Development without Redis: a process-local cache and lock over the same durable table.

    Processes do not share the lock, so two of them may both fetch a token (harmless, only
    wasteful); production settings require REDIS_URL.
    """

    def __init__(self) -> None:
        self.memory = InMemoryTokenStore()
        self.clock = time.time

    def __repr__(self) -> str:
        return "LocalTokenStore()"

    def get(self, key: str) -> Token | None:
        return self.memory.get(key) or self._db_get(key)

    def set(self, key: str, token: Token) -> None:
        self._db_set(key, token)
        self.memory.set(key, token)

    def delete(self, key: str, *, only_if_value: str | None = None) -> None:
        self.memory.delete(key, only_if_value=only_if_value)
        if only_if_value is None:
            AccessToken.objects.filter(key=key).delete()
        else:
            self._db_delete_if(key, only_if_value)

    def lock(self, key: str, *, timeout: float):
        return self.memory.lock(key, timeout=timeout)


_stores: dict[str, SharedTokenStore] = {}


def token_store() -> SharedTokenStore:
    """The process-wide store: shared through settings.REDIS_URL, or local without it."""
    url = settings.REDIS_URL
    store = _stores.get(url)
    if store is None:
        new = SharedTokenStore(redis.Redis.from_url(url)) if url else LocalTokenStore()
        store = _stores.setdefault(url, new)
    return store


def tenant_refresh_token(*, tenant: Tenant) -> None:
    """Drop the tenant's cached corp token and fetch a new one now (an operator's action)."""
    from tenants.services.clients import corp_token_fetch

    if tenant.status == Tenant.Status.RELIEVED:
        raise TenantInactive(f"tenant {tenant.corp_id} is relieved: DingTalk issues no token",
                             extra={"corp_id": tenant.corp_id})
    key = tenant_token_key(tenant=tenant)
    token_store().delete(key)
    corp_token_fetch(tenant=tenant)
    logger.info("tenant %s: corp token refreshed", tenant.corp_id)


def tenant_tokens_drop(*, tenant: Tenant) -> None:
    """Forget every cached token of the tenant, in Redis and in the database."""
    token_store().delete(tenant_token_key(tenant=tenant))
    AccessToken.objects.filter(tenant=tenant).delete()


def tenant_token_key(*, tenant: Tenant) -> str:
    """The dingtalk cache key of the tenant's corp token."""
    return isv_corp_token_key(tenant.suite.suite_key, tenant.corp_id)
