"""Pacing when Redis misbehaves: a hung Redis (it accepts connections and never answers, as a
stopped server does) costs one timeout, not one per call; the calls are paced locally meanwhile."""

import socket
import time
import uuid

import pytest

from directory import pacing
from directory.pacing import pace


@pytest.fixture
def hung_redis():
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()


def test_a_hung_redis_costs_one_timeout_not_one_per_call(settings, hung_redis, caplog,
                                                          monkeypatch):
    # Put back after the test (monkeypatch), so later tests trust Redis again.
    monkeypatch.setattr(pacing, "_redis_down_until", {})
    settings.REDIS_URL = hung_redis
    settings.REDIS_SOCKET_TIMEOUT_S = settings.REDIS_CONNECT_TIMEOUT_S = 0.3
    caplog.set_level("WARNING", logger="directory.pacing")
    app = f"test:{uuid.uuid4().hex}"
    started = time.monotonic()
    for _ in range(20):
        pace(app, "topapi/v2/user/list", rate=100)
    elapsed = time.monotonic() - started
    # Without a breaker each call waited out the socket timeout (20 x 0.3 s = 6 s).
    assert elapsed < 2.0, elapsed
    assert sum("without Redis" in r.getMessage() for r in caplog.records) == 1
    # The local window still paces: 5 a second, so 11 calls need three windows.
    started = time.monotonic()
    for _ in range(11):
        pace(app, "topapi/v2/department/get", rate=5)
    assert time.monotonic() - started >= 0.9
    # Only that Redis is skipped: another URL (the next test's) is tried at once.
    assert set(pacing._redis_down_until) == {hung_redis}  # noqa: SLF001
