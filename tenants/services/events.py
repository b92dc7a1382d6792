"""Processing of stored callback events (the inbox): claim, handle, record; safe to re-run.

A run claims the event with one conditional UPDATE (PENDING/FAILED -> PROCESSING, attempts+1):
zero rows means another worker has it or it is finished. DingTalk is called outside any
transaction; each outcome is recorded in its own short UPDATE:

- handled: DONE; an event older than what the tenant already saw, or of a kind we do not act
  on: IGNORED (with the reason in last_error).
- transport errors, throttling, DingTalk "busy", a missing suite ticket: FAILED, and the error
  is raised again so the Celery task retries with exponential backoff;
- any other DingTalk or service error: FAILED without retry (an operator can reprocess);
- after MAX_ATTEMPTS attempts a failure is final: DEAD.

`callback_events_sweep` (run by Celery beat) queues again what nobody is working on: PENDING
events whose task never reached a worker (the broker was down when DingTalk pushed) and
PROCESSING events whose worker died mid-run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F

from core import clock
from dingtalk.errors import RateLimited, TransientApiError, TransportError
from tenants.errors import NoSuiteTicket
from tenants.models import CallbackEvent
from tenants.services.events_handlers import handle_event

logger = logging.getLogger("tenants.events")

MAX_ATTEMPTS = 5
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    TransportError, RateLimited, TransientApiError, NoSuiteTicket,
)
_CLAIMABLE = (CallbackEvent.Status.PENDING, CallbackEvent.Status.FAILED)
_MAX_ERROR = 2000


def callback_event_claim(*, event_id: int) -> CallbackEvent | None:
    """Take the event for this worker; None when someone else has it or it is finished."""
    claimed = CallbackEvent.objects.filter(id=event_id, status__in=_CLAIMABLE).update(
        status=CallbackEvent.Status.PROCESSING, attempts=F("attempts") + 1,
        claimed_at=clock.now(),
    )
    if not claimed:
        return None
    return CallbackEvent.objects.select_related("suite").get(pk=event_id)


def callback_event_process(*, event_id: int) -> CallbackEvent | None:
    """Process one stored event. Raises a RETRYABLE_ERRORS error when a retry may help."""
    event = callback_event_claim(event_id=event_id)
    if event is None:
        logger.info("event %s already claimed or finished; skipping", event_id)
        return None
    try:
        status, note = handle_event(event)
    except RETRYABLE_ERRORS as exc:
        if _record_failure(event, exc) == CallbackEvent.Status.FAILED:
            raise
    except Exception as exc:
        # Not retried by Celery: a DingTalk refusal or a bug; recorded for the admin's eyes.
        _record_failure(event, exc)
        logger.exception("event %s (%s) failed", event.pk, event.kind)
    else:
        _record(event, status, note)
    event.refresh_from_db()
    return event


def _record(event: CallbackEvent, status: str, note: str = "") -> None:
    CallbackEvent.objects.filter(pk=event.pk, status=CallbackEvent.Status.PROCESSING).update(
        status=status, last_error=note[:_MAX_ERROR], processed_at=clock.now()
    )
    logger.info("event %s (%s) %s", event.pk, event.kind, status)


def _record_failure(event: CallbackEvent, exc: Exception) -> str:
    """FAILED, or DEAD once MAX_ATTEMPTS attempts failed: returns the status written."""
    dead = event.attempts >= MAX_ATTEMPTS
    status = CallbackEvent.Status.DEAD if dead else CallbackEvent.Status.FAILED
    # Messages of dingtalk errors and ServiceErrors never carry secrets or query strings.
    message = f"{type(exc).__name__}: {exc}"
    CallbackEvent.objects.filter(pk=event.pk, status=CallbackEvent.Status.PROCESSING).update(
        status=status, last_error=message[:_MAX_ERROR], processed_at=clock.now()
    )
    logger.warning("event %s (%s) attempt %s: %s -> %s", event.pk, event.kind,
                   event.attempts, type(exc).__name__, status)
    return status


def callback_event_reprocess(*, event: CallbackEvent) -> CallbackEvent:
    """Put an event back in the queue with a fresh set of attempts (an operator's retry).

    Works from any status, PROCESSING included (a worker that died mid-run leaves it there);
    handlers are idempotent, so a rare double run is harmless.
    """
    from tenants.tasks import callback_event_process as process_task

    CallbackEvent.objects.filter(pk=event.pk).update(
        status=CallbackEvent.Status.PENDING, attempts=0, processed_at=None
    )
    event_id = event.pk
    transaction.on_commit(lambda: process_task.delay(event_id))
    event.refresh_from_db()
    logger.info("event %s (%s) queued again by an operator", event.pk, event.kind)
    return event


def callback_events_sweep(*, pending_after: timedelta, processing_after: timedelta,
                          limit: int = 500) -> list[int]:
    """Queue again the events nobody is working on; returns the ids queued.

    A PROCESSING row claimed longer ago than `processing_after` lost its worker: it goes back to
    PENDING, or to DEAD once it has used its MAX_ATTEMPTS (an event that kills its worker every
    time must not loop forever). Handlers are idempotent, so a rare double run is harmless.
    """
    from tenants.tasks import callback_event_process as process_task

    now = clock.now()
    lost = CallbackEvent.objects.filter(status=CallbackEvent.Status.PROCESSING,
                                        claimed_at__lt=now - processing_after)
    lost.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=CallbackEvent.Status.DEAD, processed_at=now,
        last_error="its worker was lost on every attempt; given up")
    lost.update(status=CallbackEvent.Status.PENDING,
                last_error="its worker was lost mid-run; queued again by the sweep")
    ids = list(
        CallbackEvent.objects.filter(status=CallbackEvent.Status.PENDING,
                                     received_at__lt=now - pending_after)
        .order_by("received_at").values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        transaction.on_commit(lambda event_id=event_id: process_task.delay(event_id))
    if ids:
        logger.warning("sweep queued %s stranded callback event(s) again", len(ids))
    return ids
