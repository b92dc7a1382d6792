"""Fault injection: errcodes, HTTP 5xx, latency, drops, token expiry, throttling, odd bodies."""

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
    # Do the call (a send creates its task), then close the socket without an answer: the
    # answer lost after DingTalk acted, which makes a client's send "unknown".
    drop_after: bool = False
    expire_token: bool = False
    throttle: str | None = None  # "app" (90018) or "global" (90002)
    # With errcode: DingTalk's extra detail (errcode 88 "鉴权异常" carries its reason here).
    sub_code: str | None = None
    sub_msg: str | None = None
    # The IP-ban answer: {"status":1111,"wait":5,...} with no errcode at all (PROTOCOL 10).
    ip_ban: bool = False
    # Answered verbatim as text/html (a gateway error page, not JSON).
    raw_body: str | None = None
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
        _check_spec(spec)
        fault = Fault(id=next(self._ids), endpoint=endpoint, **spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def pick(self, endpoint: str, corp_id: str | None) -> Fault | None:
        if not self._faults:
            return None  # the usual case: no rules, so no lock taken on every call
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, corp_id) and self._rng.random() < fault.rate:
                    fault.fired += 1
                    return fault
        return None

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]


_NUMBERS = {"errcode": int, "http_status": int, "latency_ms": int, "count": int, "rate": float}


def _check_spec(spec: dict) -> None:
    """A bad rule is a 400 now, not an exception in every later API call it is matched on."""
    for name in ("rate", "latency_ms", "drop", "drop_after", "expire_token", "ip_ban"):
        if spec.get(name, 0) is None:
            del spec[name]  # null means the default
    for name, value in spec.items():
        kind = _NUMBERS.get(name)
        if kind is not None and value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    kind is int and not isinstance(value, int)):
                raise ValueError(f"fault {name} must be a {kind.__name__}")
        elif name in ("drop", "drop_after", "expire_token", "ip_ban") and not isinstance(
                value, bool):
            raise ValueError(f"fault {name} must be true or false")
        elif name in ("corp_id", "errmsg", "sub_code", "sub_msg", "raw_body") and not isinstance(
                value, str | None):
            raise ValueError(f"fault {name} must be a string")
    if not 0 <= spec.get("rate", 1.0) <= 1:
        raise ValueError("fault rate must be between 0 and 1")
    if not 0 <= spec.get("latency_ms", 0) <= 600_000 or (spec.get("count") or 0) < 0:
        raise ValueError("fault latency_ms must be 0..600000 and count >= 0")
    if spec.get("http_status") is not None and not 400 <= spec["http_status"] <= 599:
        raise ValueError("fault http_status must be 400..599")
