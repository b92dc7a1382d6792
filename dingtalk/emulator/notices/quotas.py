"""Silent work-notification quotas: daily caps, duplicates, per-minute windows (PROTOCOL 3.1)."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from dataclasses import dataclass

from .config import DAY_ROLLING, NoticeConfig

DAY_MS = 86_400_000
MINUTE_MS = 60_000
SHANGHAI_OFFSET_MS = 8 * 3_600_000  # Asia/Shanghai has had no DST since 1991

# forbidden_list codes (PROTOCOL 3.3): (internal, ISV)
CODE_DUPLICATE = (143106, 143206)
CODE_DAILY_CAP = (143105, 143205)
CODE_MINUTE_APP_CORP = (143103, 143203)
CODE_MINUTE_SUITE = 143204
CODE_MINUTE_CORP = 143104


@dataclass(frozen=True)
class Sender:
    """Who sends: the corp, the app (appkey or suite_key), its agent id there, ISV or not."""

    corp_id: str
    app_key: str
    agent_id: int
    is_isv: bool = False

    @property
    def suite_key(self) -> str | None:
        return self.app_key if self.is_isv else None


@dataclass(frozen=True)
class Forbidden:
    """Why a recipient was silently dropped: DingTalk's code and the threshold (`count`)."""

    code: int
    count: int


def content_key(canonical_content: str) -> str:
    return hashlib.sha256(canonical_content.encode()).hexdigest()


def shanghai_day(now_ms: int) -> int:
    return (now_ms + SHANGHAI_OFFSET_MS) // DAY_MS


class _Window:
    """A sliding 60 s window of recipient counts in emulated time."""

    __slots__ = ("events", "total")

    def __init__(self) -> None:
        self.events: deque[tuple[int, int]] = deque()
        self.total = 0

    def used(self, now_ms: int) -> int:
        while self.events and self.events[0][0] <= now_ms - MINUTE_MS:
            self.total -= self.events.popleft()[1]
        return self.total

    def add(self, now_ms: int, count: int) -> None:
        if count:
            self.events.append((now_ms, count))
            self.total += count


class QuotaBook:
    """Remembers deliveries and decides, per recipient, whether a quota forbids it."""

    def __init__(self, config: NoticeConfig):
        self.config = config
        self._deliveries: dict[tuple, list[int]] = defaultdict(list)
        self._last_content: dict[tuple, int] = {}
        self._windows: dict[tuple, _Window] = defaultdict(_Window)
        self._to_all: dict[tuple, list[int]] = defaultdict(list)
        self._pruned_at = 0

    def _same_day(self, then_ms: int, now_ms: int) -> bool:
        if self.config.day_mode == DAY_ROLLING:
            return now_ms - then_ms < DAY_MS
        return shanghai_day(then_ms) == shanghai_day(now_ms)

    def _today(self, stamps: list[int], now_ms: int) -> int:
        """How many of the ascending stamps fall in the current day (calendar or rolling)."""
        stale = bisect_right(stamps, now_ms - DAY_MS)
        if stale:
            del stamps[:stale]
        if self.config.day_mode == DAY_ROLLING:
            return len(stamps)
        midnight = shanghai_day(now_ms) * DAY_MS - SHANGHAI_OFFSET_MS
        return len(stamps) - bisect_left(stamps, midnight)

    def admit(self, *, now_ms: int, sender: Sender, userids: list[str], content: str) -> dict:
        """Decide every recipient in order; returns {userid: Forbidden | None (delivered)}."""
        self._prune(now_ms)
        windows = self._minute_windows(sender, now_ms)
        digest = content_key(content)
        outcome: dict[str, Forbidden | None] = {}
        for userid in userids:
            verdict = self._verdict(sender, userid, digest, now_ms, windows)
            if verdict is None:
                self._deliveries[sender.app_key, sender.corp_id, userid].append(now_ms)
                self._last_content[sender.app_key, sender.corp_id, userid, digest] = now_ms
                for entry in windows:
                    entry[1] += 1
            outcome[userid] = verdict
        delivered = sum(1 for verdict in outcome.values() if verdict is None)
        for window, _used, _limit, _code in windows:
            window.add(now_ms, delivered)
        return outcome

    def _minute_windows(self, sender: Sender, now_ms: int) -> list[list]:
        """[window, used so far, limit, code] for each per-minute rule that covers the sender.

        143104 (every internal app of the corp together) has no ISV counterpart in DingTalk's
        code table, so ISV sends neither count towards it nor are held by it.
        """
        cfg = self.config
        keys = [(("app", sender.app_key, sender.corp_id), cfg.per_minute_app_corp,
                 CODE_MINUTE_APP_CORP[int(sender.is_isv)])]
        if sender.is_isv:
            keys.append((("suite", sender.suite_key), cfg.per_minute_suite, CODE_MINUTE_SUITE))
        elif cfg.per_minute_corp:
            keys.append((("corp", sender.corp_id), cfg.per_minute_corp, CODE_MINUTE_CORP))
        return [[self._windows[key], self._windows[key].used(now_ms), limit, code]
                for key, limit, code in keys]

    def _verdict(self, sender: Sender, userid: str, digest: str, now_ms: int,
                 windows: list[list]) -> Forbidden | None:
        isv = int(sender.is_isv)
        cap = self.config.daily_cap_isv if sender.is_isv else self.config.daily_cap_internal
        last = self._last_content.get((sender.app_key, sender.corp_id, userid, digest))
        if last is not None and self._same_day(last, now_ms):
            return Forbidden(CODE_DUPLICATE[isv], 1)
        if self._today(self._deliveries[sender.app_key, sender.corp_id, userid], now_ms) >= cap:
            return Forbidden(CODE_DAILY_CAP[isv], cap)
        for _window, used, limit, code in windows:
            if used >= limit:
                return Forbidden(code, limit)
        return None

    def to_all_allowed(self, *, now_ms: int, sender: Sender) -> bool:
        stamps = self._to_all[sender.app_key, sender.corp_id]
        return self._today(stamps, now_ms) < self.config.to_all_user_per_day

    def record_to_all(self, *, now_ms: int, sender: Sender) -> None:
        self._to_all[sender.app_key, sender.corp_id].append(now_ms)

    def _prune(self, now_ms: int) -> None:
        """Forget duplicates older than a day, at most once per emulated minute (memory bound)."""
        if now_ms - self._pruned_at < MINUTE_MS:
            return
        self._pruned_at = now_ms
        stale = [key for key, stamp in self._last_content.items() if stamp <= now_ms - DAY_MS]
        for key in stale:
            del self._last_content[key]
