"""A small per-process cache of rows by key, each kept for a fixed number of seconds.

For hot read paths that tolerate a short staleness and know how to recover from it (the
callback endpoint re-reads the database before refusing a push, so a rotated secret never
causes a refusal). Ages are measured on the monotonic clock: real elapsed time in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ProcessCache(Generic[V]):
    def __init__(self, max_age: float = 30.0) -> None:
        self.max_age = max_age
        self._entries: dict[str, tuple[float, V]] = {}

    def get_or_load(self, key: str, load: Callable[[], V]) -> tuple[V, bool]:
        """(value, came_from_cache); `load` runs on a miss and its exceptions propagate."""
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.max_age:
            return hit[1], True
        value = load()
        self._entries[key] = (now, value)
        return value, False

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
