"""The database backend: for deployments without Redis and for the `make run` demo on SQLite.

Two tables: `LimiterKey`, one row per key (the row an acquire locks, holding the running total
of the key's admissions), and `LimiterAdmission`, one row per (key, millisecond) admitted. An
acquire is one short transaction of two statements on PostgreSQL, whatever the number of rules
or admissions: the first locks the keys' rows in key order (SELECT ... ORDER BY key FOR UPDATE,
so two acquires never deadlock), deletes the admissions that left each window and returns each
key's remaining total; the second records the admission under every rule and the new totals. A
refusal computes its wait and rolls back: it changes nothing. The commit does not wait for the
WAL flush (_ASYNC_COMMIT). (The first version locked, summed and deleted key by key, ~20
statements and ~60 acquires/s; bench/limiter.py.) The clock is read once, before the
statements, as the Redis backend does.

A key seen for the first time gets its row from an INSERT ... ON CONFLICT DO NOTHING committed
on its own while no limiter lock is held, and the acquire starts over: inside the locking
transaction that insert could wait on another acquire's new row while holding a lock that
acquire waits for. Call `acquire` outside any transaction (the services do): in a caller's
transaction every lock lasts until the caller commits.

SQLite has no row locks and one writer: the transaction starts with BEGIN IMMEDIATE, taking the
write lock before anything is read, so acquires from several processes on one file (the demo's
Celery worker) serialise; threads of one process queue on a process lock first instead of on
SQLite's busy timeout. The same steps then run as separate statements (SQLite has no DELETE in
a WITH).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from django.db import connection, transaction

from .base import ALLOWED, Decision, Rule, RuleUsage, check_acquire, now_ms
from .models import LimiterAdmission, LimiterKey

_sqlite_lock = threading.Lock()
# The hot path is plain SQL (one statement where the ORM needs several): only these table
# names and %s placeholders are formatted into it (the noqa: S608 lines); values are parameters.
_KEYS = connection.ops.quote_name(LimiterKey._meta.db_table)
_ADMISSIONS = connection.ops.quote_name(LimiterAdmission._meta.db_table)
# Rows vanish only by prune(), which spares keys used in the last hour: a second miss means a
# prune with older_than_s near 0 raced this acquire, and a third would be a bug.
_ATTEMPTS = 3
_USAGE_CHUNK = 300  # keys per usage() query
# PostgreSQL: the limiter's own transactions commit without waiting for their WAL flush
# (synchronous_commit off for them alone; every other transaction keeps its durability). A
# crash of the database server can then forget the last fraction of a second of admissions (at
# most 3 x wal_writer_delay, 0.6 s by default), as a crashed Redis with `appendfsync everysec`
# (deploy/compose.yml) forgets about a second of the Redis backend's; never a torn or
# half-applied acquire. Each acquire holds its rows shorter: 1.2-2x the acquires/s (bench).
_ASYNC_COMMIT = True


class DatabaseLimiter:
    """Sliding-window limits in the `LimiterKey` and `LimiterAdmission` tables."""

    def acquire(self, rules: Sequence[Rule], amount: int = 1) -> Decision:
        check_acquire(rules, amount)
        if not rules:
            return ALLOWED
        now = now_ms()
        # Only a transaction of the limiter's own may commit asynchronously, never a caller's.
        fast_commit = _ASYNC_COMMIT and not connection.in_atomic_block
        for _ in range(_ATTEMPTS):
            try:
                with _transaction():
                    return _decide(rules, amount, now, _lock_and_trim(rules, now, fast_commit))
            except _RowsMissing as missing:  # rolled back: no lock is held any more
                _create_rows(missing.keys, now)
        raise RuntimeError(f"limiter rows of {[r.key for r in rules]!r} vanished {_ATTEMPTS} times")

    def usage(self, rules: Sequence[Rule]) -> list[RuleUsage]:
        """Each rule's units in its window now: plain SELECTs, no lock, nothing written."""
        now = now_ms()
        windows = sorted({rule.key: rule.window_ms for rule in rules}.items())
        live: dict[str, tuple[int, int]] = {}
        for start in range(0, len(windows), _USAGE_CHUNK):
            live.update(_live(windows[start:start + _USAGE_CHUNK], now))
        answer = []
        for rule in rules:
            used, oldest = live.get(rule.key, (0, None))
            frees = None if oldest is None else (oldest + rule.window_ms - now) / 1000
            answer.append(RuleUsage(rule.key, rule.limit, rule.window_seconds, used, frees))
        return answer

    def prune(self, *, older_than_s: float = 3600.0) -> int:
        """Delete the keys nobody admitted under for `older_than_s` (longer than any window),
        with their admissions: a sweep's job. Keys an acquire holds are left for next time."""
        cutoff = now_ms() - round(older_than_s * 1000)
        with _transaction():
            stale = list(LimiterKey.objects.select_for_update(skip_locked=True)
                         .filter(newest_ms__lte=cutoff).values_list("key", flat=True))
            LimiterAdmission.objects.filter(key__in=stale).delete()
            deleted, _ = LimiterKey.objects.filter(key__in=stale).delete()
        return deleted


class _RowsMissing(Exception):
    def __init__(self, keys: list[str]):
        super().__init__(keys)
        self.keys = keys


def _decide(rules: Sequence[Rule], amount: int, now: int, totals: Mapping[str, int]) -> Decision:
    """Admit under every rule, or refuse naming the rule that frees last (first on a tie)."""
    need = {rule.key: totals[rule.key] + rule.cost(amount) - rule.limit for rule in rules}
    over = {key: units for key, units in need.items() if units > 0}
    if not over:
        _record(rules, amount, now, totals)
        return ALLOWED
    reached = _reached_ms(over, {rule.key: now - rule.window_ms for rule in rules})
    transaction.set_rollback(True)  # a refusal changes nothing; the next acquire trims again
    worst: tuple[str, int] | None = None
    for rule in rules:
        if rule.key in over:
            # Nothing reaches `need` only if the total disagrees with the rows: a full window.
            wait = (reached[rule.key] + rule.window_ms - now if rule.key in reached
                    else rule.window_ms)
            if worst is None or wait > worst[1]:
                worst = (rule.key, wait)
    return Decision(False, worst[1] / 1000, worst[0])


def _lock_and_trim(rules: Sequence[Rule], now: int, fast_commit: bool) -> dict[str, int]:
    """Lock every rule's key row, delete what left its window; each key's remaining total."""
    keys = sorted(rule.key for rule in rules)
    marks = ", ".join(["%s"] * len(keys))
    cutoffs = [value for rule in rules for value in (rule.key, now - rule.window_ms)]
    # SQLite frees a deleted row's index entry at once: no need to start at oldest_ms.
    gone_where = " OR ".join(['("key" = %s AND admitted_ms <= %s)'] * len(rules))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # under BEGIN IMMEDIATE: nobody else writes
            _create_rows(keys, now)
            cursor.execute(f'SELECT "key", total FROM {_KEYS} WHERE "key" IN ({marks})',  # noqa: S608
                           keys)
            totals = dict(cursor.fetchall())
            cursor.execute(f'SELECT "key", SUM(amount) FROM {_ADMISSIONS} '  # noqa: S608
                           f'WHERE {gone_where} GROUP BY "key"', cutoffs)
            for key, gone in cursor.fetchall():
                totals[key] -= gone
            cursor.execute(f"DELETE FROM {_ADMISSIONS} WHERE {gone_where}",  # noqa: S608
                           cutoffs)
            return totals
        # Rows are locked in ORDER BY order; an admission is deleted only once its key's row
        # is locked (the DELETE joins `locked`), and only what this statement deleted is
        # subtracted from the total it locked. The scan starts at the key's oldest_ms, above
        # the index entries of admissions deleted before (which stay until a VACUUM and would
        # otherwise be walked by every acquire). set_config: see _ASYNC_COMMIT.
        cases = " ".join(["WHEN %s THEN %s::bigint"] * len(rules))
        cursor.execute(
            f'WITH locked AS MATERIALIZED (SELECT "key", total, oldest_ms, '  # noqa: S608
            f'CASE "key" {cases} END AS cutoff FROM {_KEYS} '
            f'WHERE "key" IN ({marks}) ORDER BY "key" FOR UPDATE), '
            f"gone AS (DELETE FROM {_ADMISSIONS} a USING locked l "
            f'WHERE a."key" = l."key" AND a.admitted_ms BETWEEN l.oldest_ms AND l.cutoff '
            f'RETURNING a."key", a.amount) '
            f'SELECT l."key", (l.total - COALESCE((SELECT SUM(g.amount) FROM gone g '
            f'WHERE g."key" = l."key"), 0))::bigint FROM locked l'
            + (", (SELECT set_config('synchronous_commit', 'off', true)) AS async"
               if fast_commit else ""), [*cutoffs, *keys])
        totals = dict(cursor.fetchall())
    if len(totals) < len(keys):
        raise _RowsMissing([key for key in keys if key not in totals])
    return totals


def _record(rules: Sequence[Rule], amount: int, now: int, totals: Mapping[str, int]) -> None:
    """The admission under every rule (merged into the key's row of the same ms) and totals."""
    rows = ", ".join(["(%s, %s, %s)"] * len(rules))
    cases = " ".join(["WHEN %s THEN %s"] * len(rules))
    marks = ", ".join(["%s"] * len(rules))
    added = [value for rule in rules for value in (rule.key, now, rule.cost(amount))]
    new_totals = [value for rule in rules
                  for value in (rule.key, totals[rule.key] + rule.cost(amount))]
    insert = (f'INSERT INTO {_ADMISSIONS} ("key", admitted_ms, amount) '  # noqa: S608
              f'VALUES {rows} ON CONFLICT ("key", admitted_ms) '
              f"DO UPDATE SET amount = {_ADMISSIONS}.amount + EXCLUDED.amount")
    # The oldest admission left, read after this transaction's trim (it holds the row, so
    # nobody else adds or removes one); the one being added may not be visible yet: now.
    oldest = (f"(SELECT MIN(a.admitted_ms) FROM {_ADMISSIONS} a "  # noqa: S608
              f'WHERE a."key" = {_KEYS}."key" AND a.admitted_ms >= {_KEYS}.oldest_ms)')
    update = (f'UPDATE {_KEYS} SET total = CASE "key" {cases} END, '  # noqa: S608
              f"newest_ms = CASE WHEN newest_ms > %s THEN newest_ms ELSE %s END, "
              f"oldest_ms = CASE WHEN {oldest} < %s THEN {oldest} ELSE %s END "
              f'WHERE "key" IN ({marks})')
    update_params = [*new_totals, now, now, now, now, *(rule.key for rule in rules)]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # no INSERT inside a WITH
            cursor.execute(insert, added)
            cursor.execute(update, update_params)
        else:
            cursor.execute(f"WITH added AS ({insert}) {update}", [*added, *update_params])


def _reached_ms(need: Mapping[str, int], cutoffs: Mapping[str, int]) -> dict[str, int]:
    """Per key, the admission at which the oldest admissions after the key's cutoff (the
    trimmed ones are gone) add up to `need` units."""
    live = " OR ".join(['("key" = %s AND admitted_ms > %s)'] * len(need))
    reached = " OR ".join(['("key" = %s AND freed >= %s)'] * len(need))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "key", MIN(admitted_ms) FROM (SELECT "key", admitted_ms, '  # noqa: S608
            f'SUM(amount) OVER (PARTITION BY "key" ORDER BY admitted_ms) AS freed '
            f"FROM {_ADMISSIONS} WHERE {live}) running "
            f'WHERE {reached} GROUP BY "key"',
            [*(value for key in need for value in (key, cutoffs[key])),
             *(value for pair in need.items() for value in pair)])
        return dict(cursor.fetchall())


def _live(windows: Sequence[tuple[str, int]], now: int) -> dict[str, tuple[int, int]]:
    """Per key (with its window_ms): units admitted inside the window at `now`, the oldest."""
    inside = " OR ".join(['("key" = %s AND admitted_ms > %s)'] * len(windows))
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "key", SUM(amount), MIN(admitted_ms) FROM {_ADMISSIONS} '  # noqa: S608
                       f'WHERE {inside} GROUP BY "key"',
                       [value for key, window in windows for value in (key, now - window)])
        return {key: (int(used), int(oldest)) for key, used, oldest in cursor.fetchall()}


def _create_rows(keys: Sequence[str], now: int) -> None:
    """Rows for keys seen for the first time (PostgreSQL: never while holding limiter locks)."""
    rows = ", ".join(["(%s, 0, 0, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO {_KEYS} ("key", total, oldest_ms, newest_ms) '  # noqa: S608
                       f'VALUES {rows} ON CONFLICT ("key") DO NOTHING',
                       [value for key in keys for value in (key, now)])


@contextmanager
def _transaction() -> Iterator[None]:
    """transaction.atomic(), holding SQLite's write lock from the start (BEGIN IMMEDIATE).

    Inside a caller's transaction SQLite has no choosing: a savepoint, whose first statement
    (the rows' INSERT) takes the write lock before anything is read.
    """
    if connection.vendor != "sqlite":
        with transaction.atomic():
            yield
        return
    with _sqlite_lock:
        if connection.in_atomic_block:
            with transaction.atomic():
                yield
            return
        connection.ensure_connection()  # connecting resets transaction_mode from settings
        previous = connection.transaction_mode
        try:
            connection.transaction_mode = "IMMEDIATE"  # read by atomic's BEGIN
            with transaction.atomic():
                connection.transaction_mode = previous
                yield
        finally:
            connection.transaction_mode = previous
