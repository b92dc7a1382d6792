"""Pacing of the mirror's DingTalk calls: at most N calls per second per (app, API path).

DingTalk allows 20 QPS per app per API (PROTOCOL 10, PROTOCOL-ISV 4.2); the mirror takes a
little less by default so other callers of the same app (messaging, the API's live reads) keep
room. The window is a one-second counter in Redis keyed by the Redis server's own clock, so
every worker pacing the same app shares it; without Redis each process paces alone. Waiting is
a real sleep: pacing is about DingTalk's real seconds, not the emulated clock (the emulator's
limiter counts host seconds too). The global per-IP budget is not here: the egress gate that
messaging registers on every client takes it per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from django.conf import settings

from core import clock
from core.redis import redis_client

logger = logging.getLogger(__name__)

_PREFIX = "dingsuite:directory:pace:"
# After a Redis failure the window is kept locally this long before Redis is tried again: a
# hung Redis would otherwise cost every call its socket timeout (and a warning).
_REDIS_RETRY_S = 30.0
_redis_down_until: dict[str, float] = {}  # Redis URL -> monotonic time to try it again
_local_lock = threading.Lock()
_local: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (-1, 0))


def _redis_slot(key: str, rate: int) -> float:
    """0 when a call may go now, else seconds to wait for the next window."""
    client = redis_client()
    seconds, micros = client.time()
    window = f"{_PREFIX}{key}:{seconds}"
    pipe = client.pipeline()
    pipe.incr(window)
    pipe.expire(window, 3)
    count = pipe.execute()[0]
    if count <= rate:
        return 0.0
    return max(0.001, 1.0 - micros / 1_000_000)


def _local_slot(app: str, path: str, rate: int) -> float:
    # Wall-clock seconds, as DingTalk (and Redis's window above) count them: a window offset
    # from theirs lets two windows' calls land in one of their seconds, 2 x rate.
    now = clock.host_time()
    second = int(now)
    with _local_lock:
        window, count = _local[(app, path)]
        if window != second:
            window, count = second, 0
        count += 1
        _local[(app, path)] = (window, count)
    return 0.0 if count <= rate else max(0.001, second + 1 - now)


def _redis_failed(error: Exception) -> None:
    _redis_down_until[settings.REDIS_URL] = time.monotonic() + _REDIS_RETRY_S
    logger.warning("directory pacing without Redis for %.0f s (%s)", _REDIS_RETRY_S,
                   type(error).__name__)


def pace(app: str, path: str, *, rate: int | None = None) -> float:
    """Block until one call of `path` by `app` fits the window; returns seconds waited."""
    rate = rate or settings.DIRECTORY_SYNC_QPS
    waited = 0.0
    while True:
        if not settings.REDIS_URL or (
                time.monotonic() < _redis_down_until.get(settings.REDIS_URL, 0.0)):
            # No Redis (the quick start's demo), or it failed a moment ago.
            wait = _local_slot(app, path, rate)
        else:
            try:
                wait = _redis_slot(f"{app}:{path}", rate)
            except Exception as error:  # noqa: BLE001 (any Redis failure: pace locally instead)
                _redis_failed(error)
                wait = _local_slot(app, path, rate)
        if wait <= 0:
            return waited
        time.sleep(wait)
        waited += wait
