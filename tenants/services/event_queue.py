"""Handing stored callback events to Celery: the one way to enqueue them.

The endpoint, an operator's reprocess, a scheduled retry and the sweep all call
`callback_events_enqueue`. Publishing is best effort by design: the event row is already
committed and due, so a message the broker never took is found by the sweep
(tenants/services/events.py) within seconds. The callback endpoint publishes from a background
thread, so DingTalk's reply never waits on the broker (a hung Redis once held replies for 88 s).
"""

from __future__ import annotations

import logging
import queue
import threading

from celery import current_app
from django.db import transaction

logger = logging.getLogger("tenants.events")

PROCESS_TASK = "tenants.callback_event_process"
# Beyond this backlog the endpoint stops handing ids to the publisher; the sweep has them.
_BACKLOG_LIMIT = 10_000


def callback_events_enqueue(*, event_ids: list[int], countdown: float | None = None) -> int:
    """Publish one processing task per event now; returns how many the broker took."""
    published = 0
    for event_id in event_ids:
        try:
            current_app.send_task(PROCESS_TASK, args=[event_id], countdown=countdown)
        except Exception as exc:  # the broker is down or hung: the sweep will publish it
            logger.warning("callback event %s not enqueued (%s); the sweep will queue it",
                           event_id, type(exc).__name__)
            continue
        published += 1
    return published


def callback_events_enqueue_on_commit(*, event_ids: list[int],
                                      countdown: float | None = None) -> None:
    """Enqueue once the current transaction commits (a worker must find the row)."""
    ids = list(event_ids)
    transaction.on_commit(lambda: callback_events_enqueue(event_ids=ids, countdown=countdown))


class _BackgroundPublisher:
    """One daemon thread per process that publishes ids handed to it, in arrival order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[list[int]] = queue.Queue(maxsize=_BACKLOG_LIMIT)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Counters for operators and tests: batches handed over, and batches published.
        self.submitted = 0
        self.published = 0

    def submit(self, event_ids: list[int]) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait(list(event_ids))
            self.submitted += 1
        except queue.Full:
            logger.warning("publisher backlog full: %s event(s) left to the sweep", len(event_ids))

    def _ensure_thread(self) -> None:
        # A forked child (gunicorn, prefork) inherits no running thread: start its own.
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="callback-publisher",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            callback_events_enqueue(event_ids=ids)
            self.published += 1


publisher = _BackgroundPublisher()


def callback_events_enqueue_after_reply(*, event_ids: list[int]) -> None:
    """After commit, hand the ids to the background publisher: the reply goes out at once."""
    ids = list(event_ids)
    transaction.on_commit(lambda: publisher.submit(ids))
