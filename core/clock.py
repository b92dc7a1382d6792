"""dingsuite's clock: every time decision (leases, windows, expiry, pacing, scheduling) reads it.

Production time is the host's. Tests move it instead of waiting: `advance(seconds)` adds to an
offset, and when `DINGSUITE_CLOCK_FILE` names a file the offset lives there, so a Celery worker
started by the tests (same environment) moves with the test process. tests/conftest.py has the
one helper that advances this clock and the emulator's together.

Monotonic waits inside one call (a lock poll, an HTTP timeout) stay on `time.monotonic`: they
measure real elapsed time and must not jump.
"""

from __future__ import annotations

import os
import threading
import time as _time
from datetime import UTC, datetime

_lock = threading.Lock()
_offset = 0.0


def _clock_file() -> str | None:
    return os.environ.get("DINGSUITE_CLOCK_FILE") or None


def offset() -> float:
    """Seconds this clock is ahead of the host's (0 in production)."""
    path = _clock_file()
    if path is None:
        return _offset
    # Read on every call: tests only, and an mtime-keyed cache misses writes within one tick.
    try:
        with open(path, encoding="ascii") as handle:
            return float(handle.read().strip() or 0)
    except FileNotFoundError:
        return 0.0
    except (OSError, ValueError):
        return _offset


def time() -> float:
    """Epoch seconds, like time.time()."""
    return _time.time() + offset()


def host_time() -> float:
    """The host's epoch seconds, never moved by tests: for pacing calls against DingTalk's own
    per-second windows, which count real seconds whatever the tests' clock says."""
    return _time.time()


def now() -> datetime:
    """An aware UTC datetime, like django.utils.timezone.now()."""
    return datetime.fromtimestamp(time(), tz=UTC)


def _write(value: float) -> None:
    global _offset
    _offset = value
    path = _clock_file()
    if path is not None:
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(repr(value))
        os.replace(tmp, path)  # readers never see a half-written number


def advance(seconds: float) -> float:
    """Move the clock forward (tests only); returns the new offset."""
    if not 0 <= seconds <= 10 * 366 * 86_400:  # also refuses NaN and infinity
        raise ValueError("the clock only moves forward, by at most ten years at a time")
    with _lock:
        value = offset() + seconds
        _write(value)
    return value


def reset() -> None:
    """Back to the host's time (tests only)."""
    with _lock:
        _write(0.0)
