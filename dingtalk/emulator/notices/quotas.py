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
        cfg, isv = self.config, int(sender.is_isv)
        cap = cfg.daily_cap_isv if sender.is_isv else cfg.daily_cap_internal
        app_window = self._windows["app", sender.app_key, sender.corp_id]
        suite_window = self._windows["suite", sender.suite_key] if sender.is_isv else None
        app_used = app_window.used(now_ms)
        suite_used = suite_window.used(now_ms) if suite_window else 0
        digest = content_key(content)
        outcome: dict[str, Forbidden | None] = {}
        for userid in userids:
            user_key = (sender.app_key, sender.corp_id, userid)
            last = self._last_content.get((*user_key, digest))
            stamps = self._deliveries[user_key]
            if last is not None and self._same_day(last, now_ms):
                verdict = Forbidden(CODE_DUPLICATE[isv], 1)
            elif self._today(stamps, now_ms) >= cap:
                verdict = Forbidden(CODE_DAILY_CAP[isv], cap)
            elif app_used >= cfg.per_minute_app_corp:
                verdict = Forbidden(CODE_MINUTE_APP_CORP[isv], cfg.per_minute_app_corp)
            elif suite_window is not None and suite_used >= cfg.per_minute_suite:
                verdict = Forbidden(CODE_MINUTE_SUITE, cfg.per_minute_suite)
            else:
                verdict = None
                stamps.append(now_ms)
                self._last_content[(*user_key, digest)] = now_ms
                app_used += 1
                suite_used += 1
            outcome[userid] = verdict
        delivered = sum(1 for verdict in outcome.values() if verdict is None)
        app_window.add(now_ms, delivered)
        if suite_window is not None:
            suite_window.add(now_ms, delivered)
        return outcome

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
