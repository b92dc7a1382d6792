"""QPS limits: per app per API (90018) and per API overall (90002), in REAL one-second windows."""

import threading
import time
from collections import Counter
from collections.abc import Callable


class RateLimiter:
    """Fixed one-second windows of the host's real clock: a rate is not emulated time."""

    def __init__(self, *, real: Callable[[], float] = time.time):
        self._real = real
        self._lock = threading.Lock()
        self._second = -1
        self._per_app: Counter = Counter()
        self._per_api: Counter = Counter()

    def check(self, *, owner: str | None, endpoint: str, app_qps: int,
              global_qps: int) -> int | None:
        """Count one call; return 90018 or 90002 when it is over a limit, else None."""
        second = int(self._real())
        with self._lock:
            if second != self._second:
                self._second = second
                self._per_app.clear()
                self._per_api.clear()
            self._per_api[endpoint] += 1
            if global_qps and self._per_api[endpoint] > global_qps:
                return 90002
            if owner is None:
                return None
            self._per_app[(owner, endpoint)] += 1
            if app_qps and self._per_app[(owner, endpoint)] > app_qps:
                return 90018
        return None
