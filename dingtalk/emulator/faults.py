"""Fault injection: errcodes, HTTP 5xx, latency, dropped connections, token expiry, throttling."""

import itertools
import random
import threading
from dataclasses import asdict, dataclass

THROTTLE_ERRCODES = {"app": 90018, "global": 90002}


@dataclass
class Fault:
    """One rule; `endpoint` is the path without its leading slash, or "*" for every API."""

    id: int
    endpoint: str = "*"
    corp_id: str | None = None
    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    latency_ms: int = 0
    drop: bool = False
    expire_token: bool = False
    throttle: str | None = None  # "app" (90018) or "global" (90002)
    rate: float = 1.0
    count: int | None = None  # fire at most this many times; None means forever
    fired: int = 0

    def matches(self, endpoint: str, corp_id: str | None) -> bool:
        if self.endpoint not in ("*", endpoint):
            return False
        if self.corp_id is not None and self.corp_id != corp_id:
            return False
        return self.count is None or self.fired < self.count


class Faults:
    """The active fault rules; `pick` returns the rule to apply to one call, if any."""

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []

    def add(self, **spec) -> Fault:
        spec.pop("id", None)
        spec.pop("fired", None)
        endpoint = str(spec.pop("endpoint", "*")).lstrip("/") or "*"
        if spec.get("throttle") not in (None, *THROTTLE_ERRCODES):
            raise ValueError("throttle must be 'app' or 'global'")
        fault = Fault(id=next(self._ids), endpoint=endpoint, **spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def pick(self, endpoint: str, corp_id: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, corp_id) and self._rng.random() < fault.rate:
                    fault.fired += 1
                    return fault
        return None

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]
