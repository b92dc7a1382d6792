"""Celery tasks of the messaging app: thin wrappers that take ids and call one service.

Delivery rules, each on its decorator: planning is ack-late (a worker killed mid-run leaves the
message to be redelivered; the claim and its lease make a second run harmless, and planning
sends nothing to anyone); the sweep is not (beat runs it again in 30 s). Retries are not
Celery's: planning records them on the notification (next_attempt_at) and the sweep makes them
happen even after a worker dies. Sends never ack late (see batch_send).
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from messaging.services import planning, polling, sending, settling


@shared_task(name="messaging.notification_plan", acks_late=True, ignore_result=True)
def notification_plan(notification_id: int) -> None:
    """Plan one notification: audience, ledger, batches (idempotent: claimed under a lease)."""
    planning.notification_plan(notification_id=notification_id)


@shared_task(name="messaging.notifications_sweep", ignore_result=True)
def notifications_sweep() -> None:
    """Queue planning for lost messages, dead workers' leases and due deferred recipients;
    sends for due pending batches (expired send leases become unknown, never resent); polls
    that are due (progress, read refreshes, expired poll leases)."""
    pending_after = timedelta(seconds=settings.MESSAGING_SWEEP_PENDING_AFTER_S)
    planning.notifications_sweep(pending_after=pending_after)
    sending.batches_sweep(pending_after=pending_after)
    polling.polls_sweep()
    settling.notifications_settle_sweep()


@shared_task(name="messaging.batch_send", acks_late=False, ignore_result=True)
def batch_send(batch_id: int) -> None:
    """Send one batch. Never ack-late: a redelivered send after a worker died mid-call would be
    a second DingTalk task, a second message to every recipient. The message is acked when a
    worker takes it; a send lost with its worker is found by the sweep (its lease runs out:
    UNKNOWN, never resent blindly; or, never claimed, still PENDING and queued again)."""
    sending.batch_send(batch_id=batch_id)


@shared_task(name="messaging.batch_poll", acks_late=True, ignore_result=True)
def batch_poll(batch_id: int) -> None:
    """Poll one batch's progress and results. Ack-late: a poll only reads DingTalk and its claim
    (a lease) makes a redelivered one harmless, so a worker's death loses nothing."""
    polling.batch_poll(batch_id=batch_id)

