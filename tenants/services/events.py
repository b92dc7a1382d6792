"""Processing of stored callback events (the inbox): claim, handle, record; safe to re-run.

Every status says what happens next and who makes it happen:

- PENDING: its Celery task runs it as soon as a worker takes the message. If the message was
  lost (broker down when DingTalk pushed, a worker killed with it), the sweep queues it again
  once it has waited past `next_attempt_at` plus a grace period.
- PROCESSING, held until `lease_expires_at`: the worker renews the lease while it works; when a
  worker dies the lease runs out and the sweep takes the event back (PENDING, or DEAD once its
  attempts are used up: an event that kills its worker every time must not loop).
- FAILED, due at `next_attempt_at`: a retryable failure (transport, throttling, DingTalk
  "busy", no suite ticket yet, a database hiccup) waits out its backoff. A Celery countdown is
  the fast path; the sweep is the one that survives a dead worker.
- AWAITING_REAUTH: an HTTP-push authorization whose single-use tmp_auth_code was spent without
  us hearing the answer. The sweep asks DingTalk (get_unactive_corp, reauth_corp) to push a
  fresh code, which arrives as a new event; this one is then DONE.
- DEAD: given up, with the reason; an operator reprocesses it from the admin.
- DONE / IGNORED: finished (IGNORED carries the reason: stale, or nothing to do).

A run claims the event with one conditional UPDATE (PENDING, or FAILED whose retry is due ->
PROCESSING): zero rows means another worker has it, it is finished, or its retry is not due.
DingTalk is called outside any transaction; each outcome is recorded in its own short UPDATE.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Iterator
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import F, Q

from core import clock
from dingtalk.errors import ApiError
from dingtalk.repeat import retryable_error
from tenants.errors import AuthorizationLost, NoSuiteTicket, ServiceError
from tenants.models import CallbackEvent
from tenants.services.event_queue import (
    callback_events_enqueue,
    callback_events_enqueue_on_commit,
)
from tenants.services.events_handlers import handle_event

logger = logging.getLogger("tenants.events")

Status = CallbackEvent.Status
_MAX_ERROR = 2000


def max_attempts() -> int:
    return settings.TENANTS_EVENT_MAX_ATTEMPTS


def is_retryable(exc: BaseException) -> bool:
    """A failure a later attempt can fix (classified per DingTalk call in dingtalk.repeat)."""
    return (retryable_error(exc)
            or isinstance(exc, NoSuiteTicket | OperationalError | InterfaceError
                          | SoftTimeLimitExceeded))


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential, jittered, capped."""
    base = settings.TENANTS_EVENT_RETRY_BASE_S * 2 ** max(attempts - 1, 0)
    ceiling = min(settings.TENANTS_EVENT_RETRY_MAX_S, base)
    return ceiling / 2 + random.random() * ceiling / 2  # noqa: S311 (jitter, not secrecy)


def _lease() -> timedelta:
    return timedelta(seconds=settings.TENANTS_EVENT_LEASE_S)


def callback_event_claim(*, event_id: int) -> CallbackEvent | None:
    """Take the event for this worker; None when someone else has it, it is finished, or its
    retry is not due yet."""
    now = clock.now()
    # A PENDING event runs whenever a worker gets it: its next_attempt_at only tells the sweep
    # how long it has waited (comparing it here would strand fresh events on a worker whose
    # clock runs behind the web server's). A FAILED one waits for its backoff.
    due = (Q(status=Status.PENDING)
           | Q(status=Status.FAILED, next_attempt_at__isnull=True)
           | Q(status=Status.FAILED, next_attempt_at__lte=now))
    claimed = CallbackEvent.objects.filter(due, id=event_id).update(
        status=Status.PROCESSING, attempts=F("attempts") + 1, claimed_at=now,
        lease_expires_at=now + _lease(), next_attempt_at=None)
    if not claimed:
        return None
    return CallbackEvent.objects.select_related("suite", "tenant").get(pk=event_id)


@contextlib.contextmanager
def _lease_kept(event: CallbackEvent) -> Iterator[None]:
    """Renew the claim every third of the lease while the handler works (its own thread)."""
    stop = threading.Event()
    every = max(settings.TENANTS_EVENT_LEASE_S / 3, 0.5)

    def renew():
        try:
            while not stop.wait(every):
                with contextlib.suppress(DatabaseError):
                    CallbackEvent.objects.filter(
                        pk=event.pk, status=Status.PROCESSING, claimed_at=event.claimed_at,
                    ).update(lease_expires_at=clock.now() + _lease())
        finally:
            connections.close_all()  # this thread's own connection; the thread ends here

    thread = threading.Thread(target=renew, name=f"lease-{event.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def callback_event_process(*, event_id: int) -> CallbackEvent | None:
    """Process one stored event and record what happens next. Never raises for the event's
    own failures: they are recorded (and a retry scheduled) on the row."""
    event = callback_event_claim(event_id=event_id)
    if event is None:
        logger.info("event %s already claimed, finished or not due; skipping", event_id)
        return None
    try:
        with _lease_kept(event):
            status, note = handle_event(event)
    except AuthorizationLost as exc:
        _finish(event, Status.AWAITING_REAUTH, f"{exc.code}: {exc.message}",
                next_attempt_at=clock.now())
    except Exception as exc:
        _record_failure(event, exc)
    else:
        _finish(event, status, note)
    event.refresh_from_db()
    return event


def _finish(event: CallbackEvent, status: str, note: str = "", *, next_attempt_at=None) -> bool:
    """Record an outcome if this worker still holds the claim (False: the sweep took it)."""
    done = status in (Status.DONE, Status.IGNORED, Status.DEAD)
    updated = CallbackEvent.objects.filter(
        pk=event.pk, status=Status.PROCESSING, claimed_at=event.claimed_at,
    ).update(status=status, last_error=note[:_MAX_ERROR], lease_expires_at=None,
             next_attempt_at=next_attempt_at, processed_at=clock.now() if done else None)
    logger.info("event %s (%s) %s", event.pk, event.kind, status)
    return bool(updated)


def _describe(exc: BaseException) -> str:
    # Messages of dingtalk errors and ServiceErrors never carry secrets or query strings.
    return f"{type(exc).__name__}: {exc}"


def _record_failure(event: CallbackEvent, exc: BaseException) -> str:
    """FAILED with a scheduled retry, or DEAD (not retryable, or out of attempts)."""
    if not is_retryable(exc):
        if isinstance(exc, ApiError | ServiceError):  # DingTalk or dingsuite said no
            logger.warning("event %s (%s) failed for good: %s", event.pk, event.kind,
                           _describe(exc))
        else:  # a bug: the operator needs the traceback
            logger.exception("event %s (%s) failed for good", event.pk, event.kind)
        _finish(event, Status.DEAD, f"not retryable: {_describe(exc)}")
        return Status.DEAD
    if event.attempts >= max_attempts():
        _finish(event, Status.DEAD, f"gave up after {event.attempts} attempts: {_describe(exc)}")
        return Status.DEAD
    delay = retry_delay(event.attempts)
    if _finish(event, Status.FAILED, _describe(exc),
               next_attempt_at=clock.now() + timedelta(seconds=delay)):
        callback_events_enqueue_on_commit(event_ids=[event.pk], countdown=delay)
    logger.warning("event %s (%s) attempt %s: %s; retry in %.0f s", event.pk, event.kind,
                   event.attempts, type(exc).__name__, delay)
    return Status.FAILED


def callback_event_reprocess(*, event: CallbackEvent) -> CallbackEvent:
    """Put an event back in the queue with a fresh set of attempts (an operator's retry).

    Works from any status, PROCESSING included (a worker that died mid-run leaves it there);
    handlers are idempotent, so a rare double run is harmless.
    """
    CallbackEvent.objects.filter(pk=event.pk).update(
        status=Status.PENDING, attempts=0, processed_at=None, lease_expires_at=None,
        next_attempt_at=clock.now())
    callback_events_enqueue_on_commit(event_ids=[event.pk])
    event.refresh_from_db()
    logger.info("event %s (%s) queued again by an operator", event.pk, event.kind)
    return event


def callback_events_sweep(*, pending_after: timedelta, limit: int = 500) -> list[int]:
    """Queue again what no queue holds any more; returns the ids queued.

    - PROCESSING whose lease ran out: its worker died. PENDING again (due now), or DEAD once
      it has used its attempts.
    - PENDING due longer ago than `pending_after`: its message was lost.
    - FAILED whose retry is due (its countdown message may have died with a worker).
    Each one queued has its due time moved to now, so a slow queue is not flooded every sweep.
    """
    now = clock.now()
    expired = CallbackEvent.objects.filter(status=Status.PROCESSING, lease_expires_at__lt=now)
    expired.filter(attempts__gte=max_attempts()).update(
        status=Status.DEAD, processed_at=now, lease_expires_at=None,
        last_error="its worker was lost on every attempt; given up")
    taken_back = list(expired.values_list("id", flat=True)[:limit])
    CallbackEvent.objects.filter(id__in=taken_back, status=Status.PROCESSING).update(
        status=Status.PENDING, next_attempt_at=now, lease_expires_at=None,
        last_error="its worker was lost mid-run; queued again by the sweep")
    due = (CallbackEvent.objects
           .filter(Q(status=Status.PENDING, next_attempt_at__lte=now - pending_after)
                   | Q(status=Status.PENDING, next_attempt_at__isnull=True,
                       received_at__lte=now - pending_after)
                   | Q(status=Status.FAILED, next_attempt_at__lte=now)
                   | Q(status=Status.FAILED, next_attempt_at__isnull=True))
           .order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    ids = taken_back + [pk for pk in due if pk not in taken_back]
    if ids:
        CallbackEvent.objects.filter(id__in=ids, status=Status.PENDING).update(next_attempt_at=now)
        callback_events_enqueue(event_ids=ids)
        logger.warning("sweep queued %s callback event(s) again", len(ids))
    return ids
