"""SharedTokenStore on real Redis + PostgreSQL, and tenant tokens against the emulator."""

import threading
import time
import uuid
from io import StringIO

import pytest
import redis
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from dingtalk.tokens import Token, TokenManager
from tenants.models import AccessToken
from tenants.services.clients import client_for
from tenants.services.tokens import tenant_refresh_token, tenant_token_key
from tenants.token_store import SharedTokenStore
from tests.tenants.conftest import authorized_tenant, corp_fetches, wait_for
from tests.tenants.factories import TenantFactory, random_text


@pytest.fixture
def store():
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    yield SharedTokenStore(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def _tenant_key():
    tenant = TenantFactory()
    return tenant, tenant_token_key(tenant=tenant)


def _fresh(value=None, ttl=7200.0):
    return Token(value=value or random_text(32), expires_at=time.time() + ttl)


def _stored(store):
    """(key, token): a fresh corp token of a new tenant, stored."""
    _, key = _tenant_key()
    token = _fresh()
    store.set(key, token)
    return key, token


def _served_without_fetch(store, key, token):
    fetch = _CountingFetch()
    assert TokenManager(store).get(key, fetch).value == token.value
    assert fetch.calls == 0


class _CountingFetch:
    def __init__(self):
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        return _fresh()


@pytest.mark.django_db
def test_token_store_keeps_an_encrypted_durable_copy(store):
    tenant, key = _tenant_key()
    token = _fresh()
    store.set(key, token)
    assert store.get(key).value == token.value
    row = AccessToken.objects.get(key=key)
    assert row.tenant == tenant and row.kind == AccessToken.Kind.CORP
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM tenants_accesstoken WHERE key = %s", [key])
        (raw,) = cursor.fetchone()
    assert token.value not in raw


@pytest.mark.django_db
def test_token_store_redis_flush_costs_no_fetch(store):
    key, token = _stored(store)
    store.redis.delete(store._k("token", key))
    _served_without_fetch(store, key, token)
    assert store.get(key).value == token.value


@pytest.mark.django_db
def test_token_store_redis_copy_is_encrypted(store):
    key, token = _stored(store)
    store.delete(key, only_if_value="an-older-bad-token")
    raw = store.redis.get(store._k("token", key)).decode()
    assert token.value not in raw
    assert store.get(key).value == token.value
    store.delete(key, only_if_value=token.value)
    tombstone = store.redis.get(store._k("revoked", key)).decode()
    assert token.value not in tombstone


@pytest.mark.django_db
def test_token_store_unreadable_redis_copy_is_replaced_without_a_fetch(store):
    """A plain value left by an older release (or sealed with a retired key) is a miss."""
    key, token = _stored(store)
    store.redis.set(store._k("token", key), f"{token.expires_at!r}|{token.value}")
    assert store.get(key) is None
    _served_without_fetch(store, key, token)
    assert token.value not in store.redis.get(store._k("token", key)).decode()


@pytest.mark.django_db
def test_token_store_key_rotation_costs_no_fetch(store, settings):
    """The documented rotation: prepend a key, rotate_keys, drop the old key."""
    key, token = _stored(store)
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode("ascii")
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_keys", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert store.get(key) is None  # the Redis copy is sealed with a retired key
    _served_without_fetch(store, key, token)
    assert store.get(key).value == token.value


@pytest.mark.django_db
def test_token_store_compare_and_delete_keeps_a_newer_token(store):
    _, key = _tenant_key()
    newer = _fresh()
    store.set(key, newer)
    store.delete(key, only_if_value="an-older-bad-token")
    assert store.get(key).value == newer.value
    assert AccessToken.objects.filter(key=key).exists()
    store.delete(key, only_if_value=newer.value)
    assert store.get(key) is None
    assert not AccessToken.objects.filter(key=key).exists()


@pytest.mark.django_db
def test_token_store_invalidation_after_a_flush_drops_the_durable_copy(store):
    _, key = _tenant_key()
    bad = _fresh()
    store.set(key, bad)
    store.redis.delete(store._k("token", key))
    store.delete(key, only_if_value=bad.value)
    assert not AccessToken.objects.filter(key=key).exists()
    with store.lock(key, timeout=1) as acquired:
        assert acquired
        assert store.get(key) is None


@pytest.mark.django_db
def test_token_store_warm_never_resurrects_a_revoked_token(store):
    _, key = _tenant_key()
    bad = _fresh()
    store.set(key, bad)
    store.delete(key, only_if_value=bad.value)
    # A durable copy written back by a slow writer after the revocation stays dead.
    store.durable.set(key, bad)
    with store.lock(key, timeout=1):
        assert store.get(key) is None
    assert not AccessToken.objects.filter(key=key).exists()


@pytest.mark.django_db
def test_token_store_lock_is_exclusive_and_times_out(store):
    with store.lock("suite:s:corp:c", timeout=1) as first:
        assert first
        started = time.monotonic()
        with store.lock("suite:s:corp:c", timeout=0.1) as second:
            assert not second
        assert time.monotonic() - started >= 0.1
    with store.lock("suite:s:corp:c", timeout=0.1) as third:
        assert third


@pytest.mark.django_db
def test_token_store_lock_release_checks_the_owner(store):
    store.lock_lease = 0.05
    lock_key = store._k("lock", "suite:s:corp:c")
    first = store.lock("suite:s:corp:c", timeout=0)
    assert first.__enter__()
    wait_for(lambda: not store.redis.exists(lock_key), timeout=5, what="the lease to lapse")
    store.lock_lease = 30
    with store.lock("suite:s:corp:c", timeout=0) as second:
        assert second
        owner = store.redis.get(lock_key)
        first.__exit__(None, None, None)  # the first holder's late release
        assert store.redis.get(lock_key) == owner
    assert not store.redis.exists(lock_key)


@pytest.mark.django_db(transaction=True)
def test_token_store_single_flight_across_threads(store):
    _, key = _tenant_key()
    fetch = _CountingFetch()
    manager = TokenManager(store)
    barrier = threading.Barrier(30)
    values = []

    def worker():
        barrier.wait()
        try:
            values.append(manager.get(key, fetch).value)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetch.calls == 1
    assert len(set(values)) == 1 and len(values) == 30


@pytest.mark.django_db
def test_token_store_without_redis_falls_back_to_the_database():
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    store = SharedTokenStore(down)
    _, key = _tenant_key()
    token = _fresh()
    store.set(key, token)
    assert store.get(key).value == token.value
    # Redis down: the fetch lock is PostgreSQL's advisory lock, still exclusive across holders.
    with store.lock(key, timeout=0.1) as acquired:
        assert acquired is True
        assert _lock_taken_elsewhere(store, key) is False
    assert _lock_taken_elsewhere(store, key) is True


@pytest.mark.django_db(transaction=True)
def test_token_store_database_locks_nest_without_dropping_the_outer_one():
    """A jsapi_ticket's fetch (under its key's lock) fetches the corp token under another key's
    lock on the same connection: the inner hold ending must not close the connection, which
    would drop the outer advisory lock with it."""
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                       retry=Retry(NoBackoff(), 0))
    store = SharedTokenStore(down)
    outer, inner = f"jsapi:outer:{uuid.uuid4().hex}", f"inner:{uuid.uuid4().hex}"
    with store.lock(outer, timeout=0.1) as acquired:
        assert acquired is True
        with store.lock(inner, timeout=0.1) as nested:
            assert nested is True
            assert _lock_taken_elsewhere(store, inner) is False
        assert _lock_taken_elsewhere(store, inner) is True
        assert _lock_taken_elsewhere(store, outer) is False  # still ours
    assert _lock_taken_elsewhere(store, outer) is True


def _lock_taken_elsewhere(store, key) -> bool:
    """Try the key's lock from another thread (its own database connection)."""
    outcome = []

    def other():
        try:
            with store.lock(key, timeout=0.1) as acquired:
                outcome.append(acquired)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    return outcome[0]


@pytest.mark.django_db
@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_tenant_token_fetched_once_then_refreshed_once_after_expiry(
    emulator, make_suite, push_style
):
    tenant, corp = authorized_tenant(emulator, make_suite, push_style)
    client = client_for(tenant)
    assert isinstance(client.departments.list_ids(1), list)
    client_for(tenant).users.get(corp["userids"][0])
    assert corp_fetches(emulator, tenant) == 1
    emulator.advance(7201)
    assert client_for(tenant).users.get(corp["userids"][0]).userid == corp["userids"][0]
    assert corp_fetches(emulator, tenant) == 2
    if push_style == "http":
        # The legacy path: the corp token came through the suite token and permanent code.
        assert emulator.counters()["token_fetches"]["get_suite_token"][tenant.suite.suite_key] >= 1


@pytest.mark.django_db
def test_tenant_refresh_token_fetches_a_new_token(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    client_for(tenant).users.get(corp["userids"][0])
    before = AccessToken.objects.get(key=tenant_token_key(tenant=tenant)).value
    tenant_refresh_token(tenant=tenant)
    after = AccessToken.objects.get(key=tenant_token_key(tenant=tenant)).value
    assert after != before
    assert corp_fetches(emulator, tenant) == 2
    client_for(tenant).users.get(corp["userids"][0])
    assert corp_fetches(emulator, tenant) == 2
