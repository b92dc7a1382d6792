"""Tests for Token, InMemoryTokenStore and TokenManager (pure in-process units)."""

import threading

import pytest

from dingtalk import tokens
from dingtalk.tokens import InMemoryTokenStore, Token, TokenManager, TokenStore


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingFetch:
    """A fetch function that counts calls and hands out numbered tokens."""

    def __init__(self, clock: FakeClock, lifetime: float = 7200.0,
                 gate: threading.Event | None = None) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.gate = gate
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> Token:
        if self.gate is not None:
            assert self.gate.wait(timeout=10)
        with self._lock:
            self.calls += 1
            n = self.calls
        return Token(value=f"tok-{n}", expires_at=self.clock() + self.lifetime)


def test_tokens_token_repr_masks_value():
    token = Token(value="very-secret-token", expires_at=5.0)
    assert "very-secret-token" not in repr(token)
    assert "very-secret-token" not in str(token)
    assert "5.0" in repr(token)


def test_tokens_in_memory_store_is_a_token_store():
    assert isinstance(InMemoryTokenStore(), TokenStore)


def test_tokens_manager_caches_until_refresh_ahead():
    clock = FakeClock()
    fetch = CountingFetch(clock)
    manager = TokenManager(InMemoryTokenStore(), clock=clock, refresh_ahead=300)
    assert manager.get("k", fetch).value == "tok-1"
    clock.now += 7200 - 301
    assert manager.get("k", fetch).value == "tok-1"
    clock.now += 2  # now 299 s before expiry: inside the refresh-ahead window
    assert manager.get("k", fetch).value == "tok-2"
    assert fetch.calls == 2


def test_tokens_manager_keys_are_independent():
    clock = FakeClock()
    fetch = CountingFetch(clock)
    manager = TokenManager(InMemoryTokenStore(), clock=clock)
    a = manager.get(tokens.isv_corp_token_key("suiteA", "ding1"), fetch)
    b = manager.get(tokens.isv_corp_token_key("suiteA", "ding2"), fetch)
    assert a.value != b.value and fetch.calls == 2


def test_tokens_single_flight_50_threads():
    clock = FakeClock()
    gate = threading.Event()
    fetch = CountingFetch(clock, gate=gate)
    store = InMemoryTokenStore()
    store.set("k", Token(value="old", expires_at=clock.now - 1))
    manager = TokenManager(store, clock=clock)
    results: list[str] = []
    started = threading.Barrier(51)

    def worker() -> None:
        started.wait(timeout=10)
        results.append(manager.get("k", fetch).value)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    started.wait(timeout=10)
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert fetch.calls == 1
    assert results == ["tok-1"] * 50


def test_tokens_invalidate_is_compare_and_delete():
    clock = FakeClock()
    fetch = CountingFetch(clock)
    store = InMemoryTokenStore()
    manager = TokenManager(store, clock=clock)
    first = manager.get("k", fetch)
    manager.invalidate("k", first.value)
    second = manager.get("k", fetch)
    assert second.value == "tok-2"
    # A slow thread still holding the first (bad) token must not drop the new good one.
    manager.invalidate("k", first.value)
    assert store.get("k") == second
    assert manager.get("k", fetch) == second and fetch.calls == 2


def test_tokens_store_delete_without_value_drops_any():
    store = InMemoryTokenStore()
    store.set("k", Token(value="v", expires_at=10))
    store.delete("k")
    assert store.get("k") is None
    store.delete("missing", only_if_value="x")  # no error


def test_tokens_lock_timeout_refetches_and_warns(caplog):
    clock = FakeClock()
    fetch = CountingFetch(clock)
    store = InMemoryTokenStore()
    manager = TokenManager(store, clock=clock, lock_timeout=0.01)
    with store.lock("k", timeout=1) as held:
        assert held
        with caplog.at_level("WARNING", logger="dingtalk.tokens"):
            token = manager.get("k", fetch)
    assert token.value == "tok-1" and fetch.calls == 1
    assert "not acquired" in caplog.text
    assert store.get("k") == token


def test_tokens_lock_timeout_rechecks_store_first():
    clock = FakeClock()
    fetch = CountingFetch(clock)
    good = Token(value="fresh", expires_at=clock.now + 7200)

    class SlowPeerStore(InMemoryTokenStore):
        """A peer stores a fresh token while we wait for (and fail to get) the lock."""

        def lock(self, key, *, timeout):
            self.set(key, good)
            return super().lock(key, timeout=timeout)

    store = SlowPeerStore()
    manager = TokenManager(store, clock=clock)
    assert manager.get("k", fetch) == good
    assert fetch.calls == 0


def test_tokens_lock_yields_false_when_held():
    store = InMemoryTokenStore()
    with store.lock("k", timeout=1) as first:
        with store.lock("k", timeout=0.01) as second:
            assert first is True and second is False
    with store.lock("k", timeout=0.01) as again:
        assert again is True


def test_tokens_refresh_failure_keeps_still_valid_token():
    clock = FakeClock()
    store = InMemoryTokenStore()
    current = Token(value="current", expires_at=clock.now + 100)  # inside refresh-ahead
    store.set("k", current)
    manager = TokenManager(store, clock=clock)

    def failing() -> Token:
        raise RuntimeError("DingTalk down")

    assert manager.get("k", failing) == current
    clock.now += 101
    with pytest.raises(RuntimeError):
        manager.get("k", failing)


def test_tokens_cache_key_helpers():
    assert tokens.isv_corp_token_key("suiteX", "dingY") == "suite:suiteX:corp:dingY"
    assert tokens.suite_token_key("suiteX") == "suite:suiteX"
    assert tokens.app_token_key("dingapp") == "app:dingapp"
    assert tokens.corpsecret_token_key("dingcorp") == "corpsecret:dingcorp"


def test_tokens_urllib3_request_lines_are_redacted():
    import logging

    import dingtalk.transport  # noqa: F401  (installs the filter)

    pool_logger = logging.getLogger("urllib3.connectionpool")
    record = pool_logger.makeRecord(
        pool_logger.name, logging.DEBUG, __file__, 1, '%s://%s:%s "%s %s %s" %s %s',
        ("https", "oapi.dingtalk.com", 443, "GET",
         "/user/get?access_token=tok-secret&userid=u1&signature=sig%2B&suiteTicket=tick",
         "HTTP/1.1", 200, 10), None,
    )
    for log_filter in pool_logger.filters:
        log_filter.filter(record)
    message = record.getMessage()
    assert "tok-secret" not in message and "sig%2B" not in message and "tick" not in message
    assert "access_token=***" in message and "userid=u1" in message
