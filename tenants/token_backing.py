"""The database side of the token stores: the durable encrypted copy, and the fetch lock used
when there is no Redis (tenants/token_store.py builds the stores from these)."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db import connection

from core import clock
from dingtalk.tokens import InMemoryTokenStore, Token
from tenants.models import AccessToken, Suite, Tenant

# identity/jsapi_tickets.py keys a tenant's ticket as this prefix + its corp or app token key.
JSAPI_PREFIX = "jsapi:"


def _parse_key(key: str) -> tuple[str, str | None] | None:
    """(suite_key, corp_id or None) for the suite and ISV-corp keys; None for other keys."""
    parts = key.split(":")
    if len(parts) == 2 and parts[0] == "suite":
        return parts[1], None
    if len(parts) == 4 and parts[0] == "suite" and parts[2] == "corp":
        return parts[1], parts[3]
    return None


def _app_tenant(key: str) -> Tenant | None:
    """The internal app an "app:<appkey>" or "corpsecret:<corp_id>" key belongs to, or None."""
    kind, _, name = key.partition(":")
    apps = Tenant.objects.filter(kind=Tenant.Kind.INTERNAL_APP)
    if kind == "app" and name:
        return apps.filter(appkey=name).first()
    if kind == "corpsecret" and name:
        return apps.filter(appkey="", corp_id=name).first()
    return None


class DurableTokens:
    """The AccessToken table as the durable, encrypted copy of every suite, corp and internal
    app token."""

    def get(self, key: str) -> Token | None:
        row = AccessToken.objects.filter(key=key).first()
        if row is None or row.expires_at <= clock.now():
            return None
        return Token(value=row.value, expires_at=row.expires_at.timestamp())

    def set(self, key: str, token: Token) -> None:
        owner = self._owner(key)
        if owner is None:
            return
        kind, suite, tenant = owner
        AccessToken.objects.update_or_create(key=key, defaults={
            "kind": kind, "suite": suite, "tenant": tenant, "value": token.value,
            "expires_at": datetime.fromtimestamp(token.expires_at, tz=UTC),
        })

    @staticmethod
    def _owner(key: str) -> tuple[str, Suite | None, Tenant | None] | None:
        """(kind, suite, tenant) of a key; None for a key nothing registered here owns."""
        if key.startswith(JSAPI_PREFIX):
            # A jsapi_ticket belongs to the tenant whose token fetches it: kept durably like
            # the token, so without Redis every process reads the one ticket (a second fetch
            # can kill the first under DingTalk's older behaviour).
            owner = DurableTokens._owner(key.removeprefix(JSAPI_PREFIX))
            if owner is None or owner[2] is None:
                return None
            return AccessToken.Kind.JSAPI, owner[1], owner[2]
        parsed = _parse_key(key)
        if parsed is None:
            tenant = _app_tenant(key)
            return None if tenant is None else (AccessToken.Kind.APP, None, tenant)
        suite_key, corp_id = parsed
        suite = Suite.objects.filter(suite_key=suite_key).first()
        if suite is None:
            return None
        if corp_id is None:
            return AccessToken.Kind.SUITE, suite, None
        return (AccessToken.Kind.CORP, suite,
                Tenant.objects.filter(suite=suite, corp_id=corp_id).first())

    def delete(self, key: str) -> None:
        AccessToken.objects.filter(key=key).delete()

    def delete_if(self, key: str, value: str) -> None:
        row = AccessToken.objects.filter(key=key).first()
        if row is not None and secrets.compare_digest(row.value, value):
            # fetched_at changes on every save, so a row replaced meanwhile survives.
            AccessToken.objects.filter(pk=row.pk, fetched_at=row.fetched_at).delete()


class DatabaseLock:
    """Per-key fetch lock without Redis: a PostgreSQL session advisory lock.

    The lock belongs to the holder's database connection, so it is released when the holder
    unlocks or its connection dies (a killed worker never leaves it held). Token fetches are
    rare (once per token lifetime), so the connection is closed afterwards unless a transaction
    is open: a process with many short-lived threads must not pile up idle connections. At most
    `slots` threads of a process use a connection for this at once. On other databases
    (SQLite: the one-process demo) it is a process-local lock.
    """

    slots = 4

    def __init__(self) -> None:
        self.local = InMemoryTokenStore()
        self._slots = threading.BoundedSemaphore(self.slots)
        # Holds nest: a jsapi_ticket's fetch needs the corp token, whose fetch takes its own
        # lock on the same thread and connection. Only the outermost hold takes a slot and may
        # close the connection: closing it inside would drop the outer advisory lock too.
        self._depth = threading.local()

    @staticmethod
    def _lock_id(key: str) -> int:
        digest = hashlib.blake2b(f"dingsuite-token:{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    @contextlib.contextmanager
    def hold(self, key: str, *, timeout: float) -> Iterator[bool]:
        if connection.vendor != "postgresql":
            with self.local.lock(key, timeout=timeout) as acquired:
                yield acquired
            return
        deadline = time.monotonic() + max(timeout, 0.0)
        outermost = getattr(self._depth, "holds", 0) == 0
        if outermost and not self._slots.acquire(timeout=max(timeout, 0.0)):
            yield False
            return
        self._depth.holds = getattr(self._depth, "holds", 0) + 1
        lock_id = self._lock_id(key)
        try:
            acquired = self._acquire(lock_id, deadline)
            try:
                yield acquired
            finally:
                if acquired:
                    with contextlib.suppress(Exception), connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
        finally:
            self._depth.holds -= 1
            if outermost:
                if not connection.in_atomic_block:
                    connection.close()
                self._slots.release()

    @staticmethod
    def _acquire(lock_id: int, deadline: float) -> bool:
        delay = 0.005
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
                if cursor.fetchone()[0]:
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))  # a lock poll: waits one HTTP round trip
            delay = min(delay * 2, 0.05)
