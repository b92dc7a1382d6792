"""The Redis limiter when Redis is hung (SIGSTOP) or down: it refuses at once, never blocks.

A private redis-server on a free port is paused; the machine's shared Redis is never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from messaging.limiter import Rule
from messaging.limiter.redis_backend import RedisLimiter
from tests.tenants.test_callback_outages import private_redis  # noqa: F401

pytestmark = pytest.mark.integration


def _timed(backend, rules):
    started = time.monotonic()
    decision = backend.acquire(rules, 1)
    return decision, time.monotonic() - started


def test_limiter_fails_closed_and_fast_when_redis_hangs(private_redis, settings):  # noqa: F811
    proc, url = private_redis
    settings.MESSAGING_LIMITER_UNAVAILABLE_RETRY_S = 2.5
    backend = RedisLimiter(url=url, prefix="outage:", timeout_s=0.2)
    rule = Rule("k", 5, 60)
    assert backend.acquire([rule], 1).allowed
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        for _ in range(3):
            decision, took = _timed(backend, [rule])
            assert (decision.allowed, decision.blocking_rule, decision.retry_after_s) == \
                (False, None, 2.5)
            assert decision.unavailable
            assert took < 2.0, f"a hung Redis held the acquire for {took:.2f} s"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    # Back: the limiter answers again. An acquire that timed out had already been sent, so
    # Redis may run it on waking: a refusal can still have taken its amount (never the reverse),
    # which errs towards sending less. Between 1 and 4 more units fit, then the rule refuses.
    more = 0
    while (decision := backend.acquire([rule], 1)).allowed:
        more += 1
    assert 1 <= more <= 4 and decision.blocking_rule == "k"


def dead_redis_url() -> str:
    """A Redis URL at a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_limiter_fails_closed_when_redis_is_down():
    backend = RedisLimiter(url=dead_redis_url(), prefix="down:", timeout_s=0.2)
    decision, took = _timed(backend, [Rule("k", 5, 60)])
    assert decision.unavailable and decision.retry_after_s > 0
    assert took < 2.0
