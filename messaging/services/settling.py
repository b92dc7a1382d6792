"""A notification's status from its batches and recipients, once they have moved.

SENDING while a batch waits to be sent (pending, sending, held) or deferred recipients wait
for their day; SENT once every batch is with DingTalk; then, when every recipient has an outcome
(no pending, sent or unknown-with-a-task-id left), COMPLETED, PARTIALLY_FAILED or FAILED.
Read status may still change afterwards: the poller keeps refreshing it and the counts.
"""

from __future__ import annotations

from django.db import transaction

from core import clock
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_counts_refresh

Status = Notification.Status
BatchStatus = NotificationBatch.Status
Outcome = Recipient.Outcome

_UNSENT = (BatchStatus.PENDING, BatchStatus.SENDING, BatchStatus.HELD)
_DELIVERED = (Outcome.READ, Outcome.UNREAD)
_BAD = (Outcome.FAILED, Outcome.FORBIDDEN, Outcome.INVALID_USER, Outcome.UNKNOWN)
_OPEN = (Status.SENDING, Status.SENT)


def notification_settle(*, notification_id: int) -> Notification | None:
    """Recount the notification and move it on when its batches allow; None if it is gone."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None:
            return None
        counts = notification_counts_refresh(notification=n)
        if n.status not in _OPEN:
            return n
        batches = NotificationBatch.objects.filter(notification=n)
        waiting = batches.filter(status__in=_UNSENT).exists() or n.next_attempt_at is not None
        if waiting:
            status = Status.SENDING
        elif _awaiting_outcomes(n, batches):
            status = Status.SENT
        else:
            status = _final(counts, batches)
        if status != n.status:
            n.status = status
            n.completed_at = clock.now() if status in Notification.FINAL else None
            n.save(update_fields=["status", "completed_at"])
    return n


def _awaiting_outcomes(n: Notification, batches) -> bool:
    """A recipient still waits for DingTalk's word: pending/sent, or unknown under a task."""
    if Recipient.objects.filter(notification=n, outcome__in=(Outcome.PENDING, Outcome.SENT)
                                ).exists():
        return True
    if Recipient.objects.filter(notification=n, outcome=Outcome.UNKNOWN,
                                batch__task_id__isnull=False).exists():
        return True
    # A native to_all_user task has no recipients: it waits for its batch to be done.
    return batches.filter(userids=[], status__in=(BatchStatus.SENT, BatchStatus.UNKNOWN),
                          task_id__isnull=False).exists()


def _final(counts: dict[str, int], batches) -> str:
    delivered = sum(counts.get(o, 0) for o in _DELIVERED)
    bad = sum(counts.get(o, 0) for o in _BAD)
    if not counts and batches.exists() and not batches.exclude(
            status__in=(BatchStatus.FAILED, BatchStatus.CANCELLED)).exists():
        refused = batches.filter(status=BatchStatus.FAILED).exists()
        return Status.FAILED if refused else Status.CANCELLED
    if delivered == 0 and (bad or batches.filter(status=BatchStatus.FAILED).exists()):
        return Status.FAILED
    if counts.get(Outcome.CANCELLED) and not delivered and not bad:
        return Status.CANCELLED
    return Status.PARTIALLY_FAILED if bad else Status.COMPLETED
