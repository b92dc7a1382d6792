"""Call, errcode, token-fetch, recipient and push counters for the control API."""

import threading
from collections import Counter, defaultdict


class Counters:
    """Thread-safe tallies; `snapshot()` is the JSON of GET /_emulator/counters."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            # A call that began before a reset (one held by a latency fault, say) is not
            # counted after it: it belongs to the world that was reset away.
            self.epoch = getattr(self, "epoch", 0) + 1
            self._calls: Counter = Counter()
            self._calls_by: Counter = Counter()
            self._errcodes: Counter = Counter()
            self._token_fetches: dict[str, Counter] = defaultdict(Counter)
            self._sections: dict[str, Counter] = defaultdict(Counter)
            self._sections_by: dict[str, Counter] = defaultdict(Counter)

    def call(self, endpoint: str, *, corp_id: str | None, suite_key: str | None,
             appkey: str | None, errcode: int | None, epoch: int | None = None) -> None:
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return
            self._calls[endpoint] += 1
            self._calls_by[(endpoint, corp_id, suite_key, appkey)] += 1
            if errcode is not None:
                self._errcodes[str(errcode)] += 1

    def token_fetch(self, kind: str, key: str) -> None:
        """kind is gettoken, get_suite_token or get_corp_token (key "<suite_key>:<corp_id>")."""
        with self._lock:
            self._token_fetches[kind][key] += 1

    def bump(self, section: str, key: str, n: int = 1, *, corp_id: str | None = None,
             suite_key: str | None = None, appkey: str | None = None) -> None:
        """Tallies fed by other engines: section "recipients" or "pushes", also kept per
        (corp, suite, app) so a test or benchmark can read one tenant's share."""
        with self._lock:
            self._sections[section][key] += n
            self._sections_by[section][(key, corp_id, suite_key, appkey)] += n

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "calls": dict(self._calls),
                "calls_by": [
                    {"endpoint": e, "corp_id": c, "suite_key": s, "appkey": a, "count": n}
                    for (e, c, s, a), n in sorted(self._calls_by.items(), key=str)
                ],
                "errcodes": dict(self._errcodes),
                "token_fetches": {
                    kind: dict(self._token_fetches.get(kind, {}))
                    for kind in ("gettoken", "get_suite_token", "get_corp_token")
                },
                "recipients": dict(self._sections.get("recipients", {})),
                "pushes": dict(self._sections.get("pushes", {})),
                "recipients_by": self._by("recipients"),
                "pushes_by": self._by("pushes"),
            }

    def _by(self, section: str) -> list[dict]:
        return [{"key": k, "corp_id": c, "suite_key": s, "appkey": a, "count": n}
                for (k, c, s, a), n in sorted(self._sections_by.get(section, {}).items(),
                                              key=str)]
