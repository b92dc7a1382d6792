"""Encrypted callback pushes to ISV suites, re-pushed until acknowledged (PROTOCOL 7, 8).

The emulator constructs `Pusher(emulator)`; the core calls `notify(PushEvent)`;
a dispatcher thread hands due pushes to a small worker pool, at most one in flight per suite
and, per suite, the oldest due push first, so a slow ISV never blocks the emulator or other
suites. Retry times and the suite_ticket schedule follow the emulated clock.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dingtalk.crypto import CallbackCrypto

from .config import PusherConfig
from .delivery import Outcome, attempt
from .events import PushEvent
from .payloads import Payload, build, sync_payload

log = logging.getLogger("dingtalk.emulator.pusher")

_TERMINAL = ("acknowledged", "failed", "superseded", "skipped", "dropped", "coalesced")


@dataclass(eq=False)
class PushRecord:
    """One event for one suite and the story of its delivery."""

    id: int
    suite_key: str
    kind: str
    event: str
    corp_id: str | None
    created_ms: int
    style: str
    url: str
    # pending, in_flight, held, then acknowledged, failed, superseded, skipped, dropped or
    # coalesced (merged into another push by a release)
    status: str = "pending"
    attempts: int = 0
    last_status: str = ""
    next_ms: int = 0
    payload: Payload | None = field(default=None, repr=False)
    crypto: CallbackCrypto | None = field(default=None, repr=False)
    superseded: bool = False
    rank: int = 0  # delivery order within a suite (the id, or the release order)

    def view(self) -> dict:
        return {
            "id": self.id, "suite_key": self.suite_key, "kind": self.kind, "event": self.event,
            "corp_id": self.corp_id, "created_ms": self.created_ms, "push_style": self.style,
            "status": self.status, "attempts": self.attempts, "last_status": self.last_status,
            "acknowledged": self.status == "acknowledged",
            "next_attempt_ms": self.next_ms if self.status == "pending" else None,
        }


class Pusher:
    """Delivers PushEvents to suites' callback URLs on a background thread."""

    def __init__(self, emulator):
        self.emulator = emulator
        self._cond = threading.Condition()
        self._records: dict[int, PushRecord] = {}
        self._pending: dict[int, PushRecord] = {}
        self._held: dict[int, PushRecord] = {}
        self._busy_suites: set[str] = set()
        self._ids = itertools.count(1)
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopping = False
        self._config_cache: tuple[dict, PusherConfig] | None = None
        emulator.clock.subscribe(self._wake)

    @property
    def config(self) -> PusherConfig:
        values = self.emulator.config.pusher
        if self._config_cache is None or self._config_cache[0] != values:
            self._config_cache = (dict(values), PusherConfig.from_dict(values))
        return self._config_cache[1]

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._executor = ThreadPoolExecutor(max_workers=max(1, self.config.workers),
                                                thread_name_prefix="emulator-push")
            self._thread = threading.Thread(target=self._run, name="emulator-pusher",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            thread, executor = self._thread, self._executor
            self._stopping = True
            self._thread = self._executor = None
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=5)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def reset(self) -> None:
        """Forget every push; attempts still in flight are ignored when they return."""
        with self._cond:
            self._generation += 1
            self._records.clear()
            self._pending.clear()
            self._held.clear()
            self._busy_suites.clear()
            self._cond.notify_all()

    def _wake(self, _now_ms: int) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- enqueueing ------------------------------------------------------------------------

    def notify(self, event: PushEvent, *, hold: bool | None = None, drop: bool | None = None,
               duplicate: bool | None = None) -> PushRecord | None:
        """Queue one event for its suite (called by the core after a state change).

        Contact pushes take delivery faults (defaults from the pusher config): `drop` records
        the push as dropped and never sends it, `hold` keeps it until `release`, `duplicate`
        queues a second push with the very same payload.
        """
        state, now, config = self.emulator.state, self.emulator.clock.now_ms(), self.config
        with state.lock:
            suite = state.suites.get(event.suite_key)
            if suite is None:
                return None
            payload = build(state, suite, event, now, config)
            crypto = CallbackCrypto(token=suite.token, encoding_aes_key=suite.aes_key,
                                    key=payload.key)
            style, url = suite.push_style, suite.callback_url
        if event.kind == "contact":
            hold = config.contact_hold if hold is None else hold
            drop = config.contact_drop if drop is None else drop
            duplicate = config.contact_duplicate if duplicate is None else duplicate
        copies = 2 if duplicate and not drop else 1
        with self._cond:
            for _ in range(copies):
                record = self._new_record(event, payload, crypto, style, url, now)
                if not url:
                    record.status, record.last_status = "skipped", "the suite has no callback URL"
                elif drop:
                    self._finish(record, "dropped")
                elif hold:
                    record.status = "held"
                    self._held[record.id] = record
                else:
                    self._enqueue(record)
            return record

    def _new_record(self, event, payload, crypto, style, url, now) -> PushRecord:
        record_id = next(self._ids)
        record = PushRecord(id=record_id, suite_key=event.suite_key, kind=event.kind,
                            event=payload.label, corp_id=event.corp_id, created_ms=now,
                            style=style, url=url, next_ms=now, payload=payload,
                            crypto=crypto, rank=record_id)
        self._records[record.id] = record
        return record

    def _enqueue(self, record: PushRecord) -> None:
        if record.kind == "suite_ticket" and self.config.stop_superseded_tickets:
            self._supersede_tickets(record)
        self._pending[record.id] = record
        self._cond.notify_all()

    def release(self, *, suite_key: str | None = None, corp_id: str | None = None,
                order: str = "forward", coalesce: bool = False) -> list[PushRecord]:
        """Queue the held pushes (of one suite / corp), in creation or reverse order.

        `coalesce` merges each suite's held SyncHTTP pushes into one push whose bizData holds
        all their rows in that order, as DingTalk batches rows; the merged ones end "coalesced".
        """
        with self._cond:
            held = [r for r in sorted(self._held.values(), key=lambda r: r.id)
                    if suite_key in (None, r.suite_key) and corp_id in (None, r.corp_id)]
            if order == "reverse":
                held.reverse()
            for record in held:
                del self._held[record.id]
            if coalesce:
                held = self._coalesce(held)
            now = self.emulator.clock.now_ms()
            for record in held:
                # A fresh rank puts the release order ahead of the ids' creation order.
                record.status, record.next_ms, record.rank = "pending", now, next(self._ids)
                self._enqueue(record)
            return held

    def _coalesce(self, held: list[PushRecord]) -> list[PushRecord]:
        out, merged = [], {}
        for record in held:
            if record.style != "sync_http" or record.kind != "contact":
                out.append(record)
                continue
            merged.setdefault(record.suite_key, []).append(record)
        for records in merged.values():
            if len(records) == 1:
                out.extend(records)
                continue
            rows = [row for r in records for row in json.loads(r.payload.plaintext)["bizData"]]
            first = records[0]
            payload = sync_payload(first.suite_key, rows)
            combined = self._new_record(PushEvent(kind="contact", suite_key=first.suite_key,
                                                  corp_id=first.corp_id),
                                        payload, first.crypto, first.style, first.url,
                                        self.emulator.clock.now_ms())
            for record in records:
                record.last_status = f"coalesced into push {combined.id}"
                self._finish(record, "coalesced")
            out.append(combined)
        return out

    def _supersede_tickets(self, newest: PushRecord) -> None:
        for record in list(self._pending.values()):
            if record.suite_key == newest.suite_key and record.kind == "suite_ticket":
                record.superseded = True
                if record.status == "pending":
                    self._finish(record, "superseded")

    # -- the dispatcher --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self._schedule_tickets()
            except Exception:
                log.exception("suite_ticket schedule failed")
            with self._cond:
                if self._stopping:
                    return
                now = self.emulator.clock.now_ms()
                due = self._take_due(now)
                for record in due:
                    self._executor.submit(self._deliver, record, self._generation)
                if not due:
                    self._cond.wait(self._idle_wait_s(now))

    def _take_due(self, now: int) -> list[PushRecord]:
        due = []
        for record in sorted(self._pending.values(), key=lambda r: r.rank):
            if record.status != "pending" or record.suite_key in self._busy_suites:
                continue
            if record.next_ms <= now:
                record.status = "in_flight"
                self._busy_suites.add(record.suite_key)
                due.append(record)
        return due

    def _idle_wait_s(self, now: int) -> float:
        waiting = [r.next_ms - now for r in self._pending.values() if r.status == "pending"]
        soonest = min(waiting, default=250) / 1000
        return min(0.25, max(0.002, soonest))

    def _schedule_tickets(self) -> None:
        """Rotate and push the ticket of every suite with a callback URL whose ticket is due."""
        interval_ms = self.config.ticket_interval_s * 1000
        if interval_ms <= 0:
            return
        state, now, due = self.emulator.state, self.emulator.clock.now_ms(), []
        with state.lock:
            for suite in list(state.suites.values()):
                if suite.callback_url and now - suite.ticket_ms >= interval_ms:
                    due.append((suite.suite_key, state.rotate_ticket(suite.suite_key)))
        for suite_key, ticket in due:
            self.notify(PushEvent(kind="suite_ticket", suite_key=suite_key,
                                  data={"ticket": ticket}))

    def _deliver(self, record: PushRecord, generation: int) -> None:
        try:
            config = self.config
            deadline = (config.sync_http_deadline_s
                        if record.style == "sync_http" and not record.kind.startswith("check_")
                        else config.http_deadline_s)
            outcome = attempt(url=record.url, crypto=record.crypto,
                              plaintext=record.payload.plaintext,
                              accepted=record.payload.accepted,
                              timestamp_ms=self.emulator.clock.now_ms(),
                              deadline_s=float(deadline),
                              verify_signature=config.verify_reply_signature)
            self._record_outcome(record, generation, outcome, config)
        except Exception:
            # Never leave a push in flight: that would stall its suite's queue for good.
            log.exception("push %s to suite %s failed", record.id, record.suite_key)
            self._record_outcome(record, generation, Outcome(False, "emulator error"),
                                 PusherConfig())

    def _record_outcome(self, record: PushRecord, generation: int, outcome: Outcome,
                        config: PusherConfig) -> None:
        with self._cond:
            if generation != self._generation:
                return
            self._busy_suites.discard(record.suite_key)
            record.attempts += 1
            record.last_status = outcome.status
            self._bump("sent", record)
            if outcome.acknowledged:
                self._finish(record, "acknowledged")
            elif record.superseded:
                self._finish(record, "superseded")
            elif record.attempts >= config.max_pushes:
                self._finish(record, "failed")
            else:
                record.status = "pending"
                delay_ms = int(config.retry_delay_s(record.attempts) * 1000)
                record.next_ms = self.emulator.clock.now_ms() + delay_ms
            self._cond.notify_all()

    def _finish(self, record: PushRecord, status: str) -> None:
        record.status = status
        self._pending.pop(record.id, None)
        self._bump(status, record)

    def _bump(self, key: str, record: PushRecord) -> None:
        self.emulator.counters.bump("pushes", key, corp_id=record.corp_id,
                                    suite_key=record.suite_key)

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self, suite_key: str | None = None) -> list[dict]:
        """Every push (oldest first) for GET /_emulator/pushes; no payloads (they hold codes)."""
        with self._cond:
            return [r.view() for r in self._records.values()
                    if suite_key in (None, r.suite_key)]
