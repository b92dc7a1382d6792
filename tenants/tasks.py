"""Celery tasks of the tenants app: thin wrappers that take ids and call one service."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from tenants.services import events as event_services

# Backoff between attempts: 2, 4, 8 ... s (jittered), capped at 10 minutes.
_BACKOFF = getattr(settings, "TENANTS_EVENT_RETRY_BACKOFF", 2)


@shared_task(
    name="tenants.callback_event_process",
    acks_late=True,
    autoretry_for=event_services.RETRYABLE_ERRORS,
    retry_backoff=_BACKOFF,
    retry_backoff_max=600,
    retry_jitter=True,
    # The service gives up (DEAD) after MAX_ATTEMPTS; Celery must not stop retrying first.
    max_retries=event_services.MAX_ATTEMPTS + 1,
)
def callback_event_process(event_id: int) -> None:
    """Process one stored callback event (idempotent: a second run finds it claimed or done)."""
    event_services.callback_event_process(event_id=event_id)


@shared_task(name="tenants.callback_events_sweep", ignore_result=True)
def callback_events_sweep() -> None:
    """Queue again stranded callback events (Celery beat runs this every minute)."""
    event_services.callback_events_sweep(
        pending_after=timedelta(seconds=settings.TENANTS_SWEEP_PENDING_AFTER_S),
        processing_after=timedelta(seconds=settings.TENANTS_SWEEP_PROCESSING_AFTER_S),
    )
