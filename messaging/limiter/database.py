"""The database backend: for deployments without Redis and for the `make run` demo.

Every acquire runs in one short transaction: it makes sure each key has its lock row, locks
them all in key order (SELECT ... FOR UPDATE; the order keeps two acquires from deadlocking),
reads the clock only then (so admissions are stamped in the order they were decided), drops
the admissions that left each window, and admits under every rule or none. On PostgreSQL the
row locks make this correct across any number of processes. SQLite has no row locks: there a
process-wide lock serialises acquires, which is correct for one process (the demo); several
processes on one SQLite file are not supported.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import nullcontext

from django.db import connection, transaction
from django.db.models import F, Sum

from .base import ALLOWED, Decision, Rule, check_acquire, now_ms
from .models import LOCK_ROW, LimiterWindow

_sqlite_lock = threading.Lock()


class DatabaseLimiter:
    """Sliding-window limits in the `LimiterWindow` table."""

    def acquire(self, rules: Sequence[Rule], amount: int = 1) -> Decision:
        check_acquire(rules, amount)
        if not rules:
            return ALLOWED
        with _sqlite_lock if connection.vendor == "sqlite" else nullcontext():
            with transaction.atomic():
                return self._acquire_locked(rules, amount)

    def _acquire_locked(self, rules: Sequence[Rule], amount: int) -> Decision:
        keys = sorted(rule.key for rule in rules)
        LimiterWindow.objects.bulk_create(
            [LimiterWindow(key=key, window_start=LOCK_ROW) for key in keys],
            ignore_conflicts=True)
        list(LimiterWindow.objects.select_for_update()
             .filter(key__in=keys, window_start=LOCK_ROW).order_by("key").values_list("pk"))
        now = now_ms()
        refusal: Decision | None = None
        for rule in rules:
            live = LimiterWindow.objects.filter(key=rule.key, window_start__gt=LOCK_ROW)
            live.filter(window_start__lte=now - rule.window_ms).delete()
            used = live.aggregate(total=Sum("used"))["total"] or 0
            if used + rule.cost(amount) > rule.limit:
                wait = _wait_ms(rule, used + rule.cost(amount) - rule.limit, now)
                if refusal is None or wait / 1000 > refusal.retry_after_s:
                    refusal = Decision(False, wait / 1000, rule.key)
        if refusal is not None:
            return refusal
        for rule in rules:
            cost = rule.cost(amount)
            row = LimiterWindow.objects.filter(key=rule.key, window_start=now)
            if not row.update(used=F("used") + cost):
                LimiterWindow.objects.create(key=rule.key, window_start=now, used=cost)
        return ALLOWED

    def prune(self, *, older_than_s: float = 3600.0) -> int:
        """Delete admissions older than any window (of keys nobody acquires now): a sweep's job."""
        cutoff = now_ms() - round(older_than_s * 1000)
        deleted, _ = LimiterWindow.objects.filter(window_start__gt=LOCK_ROW,
                                                  window_start__lte=cutoff).delete()
        return deleted


def _wait_ms(rule: Rule, need: int, now: int) -> int:
    """Milliseconds until the oldest admissions that free `need` units leave the window."""
    freed = 0
    rows = (LimiterWindow.objects.filter(key=rule.key, window_start__gt=LOCK_ROW)
            .order_by("window_start").values_list("window_start", "used"))
    for start, used in rows:
        freed += used
        if freed >= need:
            return start + rule.window_ms - now
    return rule.window_ms
