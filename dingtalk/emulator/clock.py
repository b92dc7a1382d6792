"""The emulator's clock: real time plus an offset that tests advance instead of sleeping."""

import threading
import time
from collections.abc import Callable

MAX_ADVANCE_S = 10 * 366 * 86_400  # ten years in one step is plenty for any test


class Clock:
    """Emulated time = real time + offset; listeners hear about every advance."""

    def __init__(self, offset_ms: int = 0, *, real: Callable[[], float] = time.time):
        self._offset_ms = offset_ms
        self._real = real
        self._lock = threading.Lock()
        self._listeners: list[Callable[[int], None]] = []

    def now_ms(self) -> int:
        return int(self._real() * 1000) + self._offset_ms

    def now(self) -> float:
        """Emulated epoch seconds (float)."""
        return self.now_ms() / 1000.0

    def real_ms(self) -> int:
        """The host's real clock; the signature window (853002) is checked against it."""
        return int(self._real() * 1000)

    @property
    def offset_ms(self) -> int:
        return self._offset_ms

    def advance(self, seconds: float) -> int:
        if not 0 <= seconds <= MAX_ADVANCE_S:  # also refuses NaN and infinity
            raise ValueError(f"advance by 0 to {MAX_ADVANCE_S} seconds: the emulated clock "
                             "only moves forward")
        with self._lock:
            self._offset_ms += int(round(seconds * 1000))
        now = self.now_ms()
        for listener in list(self._listeners):
            listener(now)
        return now

    def reset(self) -> None:
        with self._lock:
            self._offset_ms = 0

    def subscribe(self, listener: Callable[[int], None]) -> None:
        """Call listener(now_ms) after every advance (the pusher wakes its schedule this way)."""
        self._listeners.append(listener)
