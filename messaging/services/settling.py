"""A notification's status from its batches and recipients, once they have moved.

SENDING while a batch waits to be sent (pending, sending, unknown without a task id, which the
sweep sends again or closes) or deferred recipients wait for their day; HELD while the only
unsent batches are held (the tenant is stopped or suspended); SENT once every batch is with
DingTalk; then, when every recipient has an outcome
(no pending, sent or unknown-with-a-task-id left), COMPLETED, PARTIALLY_FAILED or FAILED.
Read status may still change afterwards: the poller keeps refreshing it and the counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from core import clock
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.finishing import notification_finished_on_commit
from messaging.services.notifications import notification_counts_refresh
from tenants.models import Tenant

Status = Notification.Status
BatchStatus = NotificationBatch.Status
Outcome = Recipient.Outcome

_MOVING = (BatchStatus.PENDING, BatchStatus.SENDING)
_DELIVERED = (Outcome.READ, Outcome.UNREAD, Outcome.DUPLICATE)
_BAD = (Outcome.FAILED, Outcome.FORBIDDEN, Outcome.INVALID_USER, Outcome.UNKNOWN)
_OPEN = (Status.SENDING, Status.SENT, Status.HELD)


def notification_settle(*, notification_id: int) -> Notification | None:
    """Recount the notification and move it on when its batches allow; None if it is gone."""
    with transaction.atomic():
        # (Not its audience: a big notification's userids are no part of a recount.)
        n = (Notification.objects.select_for_update().defer("userids", "dept_ids", "dept_errors")
             .filter(pk=notification_id).first())
        if n is None:
            return None
        counts = notification_counts_refresh(notification=n)
        if n.status not in _OPEN or n.planned_at is None:
            return n  # final, or held before planning (lifecycle plans it on resume)
        batches = NotificationBatch.objects.filter(notification=n)
        unsent = (batches.filter(status__in=_MOVING).exists()
                  or batches.filter(status=BatchStatus.UNKNOWN, task_id__isnull=True).exists()
                  or n.next_attempt_at is not None)
        if batches.filter(status=BatchStatus.SENDING).exists():
            status = Status.SENDING
        elif batches.filter(status=BatchStatus.HELD).exists() or (
                unsent and not Tenant.objects.get(pk=n.tenant_id).is_active):
            # Nothing moves until the tenant is back (pacing promotes nothing for it).
            status = Status.HELD
        elif unsent:
            status = Status.SENDING
        elif _awaiting_outcomes(n, batches):
            status = Status.SENT
        else:
            status = _final(counts, batches)
        if status != n.status:
            n.status = status
            n.completed_at = clock.now() if status in Notification.FINAL else None
            n.save(update_fields=["status", "completed_at"])
            if status in Notification.FINAL:
                notification_finished_on_commit(notification_id=n.pk)
    return n


def _awaiting_outcomes(n: Notification, batches) -> bool:
    """A recipient still waits for DingTalk's word: pending/sent, or unknown under a task."""
    # (A DONE batch's SENT recipients stay so for good: polling stopped, e.g. the month's
    # call budget spent, before DingTalk's result came.)
    if Recipient.objects.filter(notification=n, outcome__in=(Outcome.PENDING, Outcome.SENT)
                                ).exclude(batch__status=BatchStatus.DONE).exists():
        return True
    if Recipient.objects.filter(notification=n, outcome=Outcome.UNKNOWN,
                                batch__task_id__isnull=False).exists():
        return True
    # A native to_all_user task has no recipients: it waits for its batch to be done.
    return batches.filter(userids=[], dept_ids=[], to_all_user=False, task_id__isnull=False,
                          status__in=(BatchStatus.SENT, BatchStatus.UNKNOWN)).exists()


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


def notification_settle_if_due(*, batch: NotificationBatch, polled: bool = False,
                               ) -> Notification | None:
    """Settle after one batch was sent (or `polled`), when that can matter: a batch that did
    not simply go out or get its results (failed, held, cancelled, unknown...), the
    notification's last batch to send (none pending or sending) or to poll (no recipient
    waiting), or every MESSAGING_SETTLE_EVERY-th batch (the counts operators watch move).

    A recount per batch would read every recipient of the notification each time: quadratic
    for a 100,000-recipient notification. The caller's change is committed before this check,
    so of two workers finishing the last two batches at once, the later one to check sees
    both and settles.
    """
    if batch.status == BatchStatus.PENDING:
        return None  # back to pending (the limiter, a throttle): nothing changed
    usual = batch.status in ((BatchStatus.SENT, BatchStatus.DONE) if polled
                             else (BatchStatus.SENT,))
    if not usual or batch.seq % max(1, settings.MESSAGING_SETTLE_EVERY) == 0:
        return notification_settle(notification_id=batch.notification_id)
    if polled:
        last = not Recipient.objects.filter(
            notification_id=batch.notification_id,
            outcome__in=(Outcome.PENDING, Outcome.SENT, Outcome.UNKNOWN),
        ).exclude(batch__status=BatchStatus.DONE).exists()
    else:
        last = not NotificationBatch.objects.filter(
            notification_id=batch.notification_id, status__in=_MOVING).exists()
    return notification_settle(notification_id=batch.notification_id) if last else None


def notifications_settle_sweep(*, limit: int = 100) -> list[int]:
    """Settle open notifications that are ready to move but were not settled (a worker died
    between its batch's commit and the settle): none of their batches pending or sending, and
    either still SENDING or no recipient left waiting. Returns the ids settled."""
    moving = NotificationBatch.objects.filter(notification=OuterRef("pk"), status__in=_MOVING)
    waiting = Recipient.objects.filter(
        notification=OuterRef("pk"), outcome__in=(Outcome.PENDING, Outcome.SENT, Outcome.UNKNOWN),
    ).exclude(batch__status=BatchStatus.DONE)
    ids = list(Notification.objects.filter(
        ~Exists(moving), planned_at__isnull=False, next_attempt_at__isnull=True,
        status__in=(Status.SENDING, Status.SENT),
    ).filter(Q(status=Status.SENDING) | ~Exists(waiting)).order_by("id")
        .values_list("id", flat=True)[:limit])
    for notification_id in ids:
        notification_settle(notification_id=notification_id)
    return ids
