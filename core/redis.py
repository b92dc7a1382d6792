"""The one way dingsuite makes a Redis client: explicit connect and socket timeouts, pooled.

redis-py waits forever by default: a hung Redis (SIGSTOP, a full network buffer) would hold
every caller. Each client here fails within its timeouts instead, and callers fall back (the
token store to PostgreSQL, the limiter to its own rule).
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_lock = threading.Lock()
_clients: dict[tuple[str, float, float], redis.Redis] = {}


def redis_client(url: str | None = None, *, connect_timeout: float | None = None,
                 socket_timeout: float | None = None) -> redis.Redis:
    """A shared client for `url` (settings.REDIS_URL by default) with bounded timeouts."""
    url = url or settings.REDIS_URL
    if not url:
        raise ValueError("no Redis URL: set REDIS_URL")
    connect = connect_timeout if connect_timeout is not None else settings.REDIS_CONNECT_TIMEOUT_S
    socket = socket_timeout if socket_timeout is not None else settings.REDIS_SOCKET_TIMEOUT_S
    key = (url, float(connect), float(socket))
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=connect,
                                          socket_timeout=socket, health_check_interval=30)
            _clients[key] = client
    return client
