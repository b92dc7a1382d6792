"""Celery tasks of the tenants app: thin wrappers that take ids and call one service.

Delivery rules: event processing is ack-late (a worker killed mid-run leaves the message to be
redelivered, and the claim makes a second run harmless); the sweep is not (beat runs it again
in 30 s). Retries are not Celery's: the service records them on the row (next_attempt_at) and
the sweep makes them happen even after a worker dies.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from tenants.services import events as event_services
from tenants.services.reauth import authorizations_recover


@shared_task(name="tenants.callback_event_process", acks_late=True, ignore_result=True)
def callback_event_process(event_id: int) -> None:
    """Process one stored callback event (idempotent: a second run finds it claimed or done)."""
    event_services.callback_event_process(event_id=event_id)


@shared_task(name="tenants.callback_events_sweep", ignore_result=True)
def callback_events_sweep() -> None:
    """Re-queue stranded and due events, and ask DingTalk to re-push lost authorizations."""
    event_services.callback_events_sweep(
        pending_after=timedelta(seconds=settings.TENANTS_SWEEP_PENDING_AFTER_S))
    authorizations_recover()


@shared_task(name="tenants.tenant_data_sweep", ignore_result=True)
def tenant_data_sweep() -> None:
    """Export and delete relieved tenants past their grace (daily; not ack-late: the lease on
    each tenant row, not the message, is what survives a dead worker)."""
    from tenants.services.lifecycle import tenant_data_sweep as sweep

    sweep()
