"""Recalling a work notification: what is unsent is cancelled, what DingTalk has is recalled.

Recall (PROTOCOL 3.4: corpconversation/recall, tasks up to 24 h old, else 400002) runs in
rounds, with no DingTalk call inside a transaction:

1. Prepare, in one transaction with the notification's row and all its batch rows locked (no
   sender or poller moves them meanwhile). Refused with nothing changed: already recalled or
   cancelled; a batch SENDING (a worker holds it and DingTalk's task id for it is not known
   yet, so a recall now would miss it) or polled under a live lease (RecallInProgress: ask again
   in a minute); a batch to recall sent more than 24 h ago (RecallWindowClosed); nobody to
   recall it from and nothing left to stop. Otherwise unsent batches (PENDING, HELD) become
   CANCELLED by a conditional update, their PENDING recipients CANCELLED and those recipients'
   ledger bookings released on the batch's own ledger day, their send-window turns given to
   the tenant's next batches; deferred recipients (no batch yet) CANCELLED; an
   UNKNOWN batch without a task id is closed DONE (its recipients stay UNKNOWN: DingTalk never
   told its task id, so it cannot be recalled, and the sweep must not send it again). The
   batches to recall (a task id, someone with the message) are claimed with a poll lease, so no
   poller writes to them during the calls.
2. Recall each claimed batch at DingTalk.
3. Record each in a short transaction: its recipients who may have the message (sent, read,
   unread, unknown) RECALLED, the batch DONE with RECALLED_NOTE and no next poll.
Another prepare follows: a poll that committed between two steps may have put per-minute drops
into a new pending batch (cancelled then) or a batch may have been sent (recalled then). When a
prepare finds nothing left, the notification is RECALLED (final, completed_at set), its counts
refreshed.

A DingTalk error (or no answer) stops the recall with RecallFailed (errcode and errmsg in
extra): what was recalled stays recorded, the other claims are released, unsent batches stay
cancelled (a recall means "stop it"). Asking again recalls the rest; a batch already recalled is
known by its recipients (RECALLED) or, for a native to_all_user batch without recipient rows, by
its note, so DingTalk is never asked twice about one task (its answer to that is undocumented).

The status bar update (services/status_bar.py) and resend-failed (services/resend.py) share
this module's helpers for locking, recognising a recalled batch and reporting DingTalk's no.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import clock
from dingtalk.errors import ApiError, DingTalkError
from messaging.errors import NotificationNotFound
from messaging.errors_recall import (
    NotificationNotRecallable,
    RecallFailed,
    RecallInProgress,
    RecallWindowClosed,
    StatusBarFailed,
)
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.finishing import notification_finished_on_commit
from messaging.services.ledger import ledger_day, ledger_release
from messaging.services.notifications import notification_counts_refresh
from messaging.services.pacing import tenant_sends_promote_on_commit
from tenants.models import Tenant
from tenants.services.clients import client_for

logger = logging.getLogger("messaging.recall")

Status = Notification.Status
BatchStatus = NotificationBatch.Status
Outcome = Recipient.Outcome

RECALL_WINDOW = timedelta(hours=24)  # PROTOCOL 3.4
# sent_at is written after DingTalk's answer, so by DingTalk's clock the task began a little
# earlier: a window judged this much early is never refused by DingTalk for being late.
WINDOW_MARGIN = timedelta(minutes=1)
RECALLED_NOTE = "recalled"
_LOST_NOTE = "closed by a recall: the send's answer was lost, so its task cannot be recalled"
# Recipients who may have the message: recalled with their task.
_HAD = (Outcome.SENT, Outcome.READ, Outcome.UNREAD, Outcome.UNKNOWN)
WITH_TASK = (BatchStatus.SENT, BatchStatus.UNKNOWN, BatchStatus.DONE)
_UNSENT = (BatchStatus.PENDING, BatchStatus.HELD)
# Each round recalls what a poll committed during the previous one; more is a busy loop.
_ROUNDS = 4


def locked_notification(notification_id: int) -> Notification:
    """The notification's row, locked until the transaction ends; NotificationNotFound."""
    n = Notification.objects.select_for_update().filter(pk=notification_id).first()
    if n is None:
        raise NotificationNotFound("no such notification", extra={"id": notification_id})
    return n


def was_recalled(batch: NotificationBatch) -> bool:
    """Recalled by an earlier run (DingTalk is never asked twice about one task)."""
    return batch.status == BatchStatus.DONE and batch.last_error == RECALLED_NOTE


def notification_recall(*, notification_id: int) -> Notification:
    """Withdraw a notification: unsent batches cancelled, sent ones recalled at DingTalk, then
    RECALLED (final). The refusals and the order of things are in the module docstring."""
    recalled: set[int] = set()
    for _ in range(_ROUNDS):
        prepared = _recall_prepare(notification_id, recalled)
        if prepared is None:
            n = Notification.objects.get(pk=notification_id)
            logger.info("notification %s recalled (%s batches at DingTalk)", n.pk, len(recalled))
            return n
        tenant, targets = prepared
        _recall_batches(tenant, targets, recalled)
    raise RecallInProgress(
        "batches of this notification kept being sent while it was recalled; ask again to "
        "recall them", extra={"recalled_batches": len(recalled)})


def _recall_prepare(notification_id: int, recalled: set[int]
                    ) -> tuple[Tenant, list[NotificationBatch]] | None:
    """Refuse, or cancel what is unsent and claim what to recall; None when nothing is left
    (the notification is then RECALLED)."""
    now = clock.now()
    with transaction.atomic():
        n = locked_notification(notification_id)
        if n.status in (Status.RECALLED, Status.CANCELLED):
            raise NotificationNotRecallable(f"the notification is already {n.status}",
                                            extra={"status": n.status})
        batches = list(NotificationBatch.objects.select_for_update()
                       .filter(notification=n).order_by("seq"))
        targets = _targets(n, batches, recalled)
        _refuse_busy(batches, targets, now)
        _refuse_late(targets, now)
        changed = _cancel_unsent(n, batches) + _close_lost(batches)
        if targets:
            lease = now + timedelta(seconds=settings.MESSAGING_POLL_LEASE_S)
            NotificationBatch.objects.filter(pk__in=[b.pk for b in targets]).update(
                claimed_at=now, lease_expires_at=lease)
            return n.tenant, targets
        ever = recalled or any(was_recalled(b) for b in batches)
        if not (ever or changed) and n.status in Notification.FINAL:
            raise NotificationNotRecallable(
                "nobody has this notification's message and nothing of it is left to send",
                extra={"status": n.status})
        _recall_finish(n, now)
    return None


def _targets(n: Notification, batches: list[NotificationBatch],
             recalled: set[int]) -> list[NotificationBatch]:
    """Batches DingTalk has a task for and someone may have the message of."""
    holders = set(Recipient.objects.filter(notification=n, outcome__in=_HAD, batch__isnull=False)
                  .order_by().values_list("batch_id", flat=True).distinct())
    return [b for b in batches
            if b.task_id is not None and b.status in WITH_TASK and b.pk not in recalled
            and not was_recalled(b) and (b.pk in holders or not b.userids)]


def _refuse_busy(batches: list[NotificationBatch], targets: list[NotificationBatch],
                 now: datetime) -> None:
    sending = [b.seq for b in batches if b.status == BatchStatus.SENDING]
    polled = [b.seq for b in targets if b.lease_expires_at and b.lease_expires_at > now]
    if sending or polled:
        raise RecallInProgress(
            "part of this notification is being sent or polled right now, so a recall could "
            "miss it; nothing was changed: ask again in a minute",
            extra={"sending_batches": sending, "polled_batches": polled})


def _refuse_late(targets: list[NotificationBatch], now: datetime) -> None:
    oldest = now - (RECALL_WINDOW - WINDOW_MARGIN)
    late = [b for b in targets if b.sent_at is not None and b.sent_at < oldest]
    if late:
        raise RecallWindowClosed(
            f"batch {late[0].seq} was sent at {late[0].sent_at:%Y-%m-%d %H:%M} UTC: DingTalk "
            "recalls messages only within 24 hours of sending; nothing was changed",
            extra={"late_batches": [b.seq for b in late],
                   "sent_at": late[0].sent_at.isoformat()})


def _cancel_unsent(n: Notification, batches: list[NotificationBatch]) -> int:
    """Unsent batches and deferred recipients cancelled, bookings released; returns how many."""
    unsent = [b for b in batches if b.status in _UNSENT]
    ids = [b.pk for b in unsent]
    if ids:
        # Only PENDING recipients certainly never got it: a batch sent again after a lost
        # answer keeps its UNKNOWN ones, and their bookings (the first send may have arrived).
        never: dict[int, list[str]] = defaultdict(list)
        for batch_id, userid in Recipient.objects.filter(
                batch_id__in=ids, outcome=Outcome.PENDING).values_list("batch_id", "userid"):
            never[batch_id].append(userid)
        NotificationBatch.objects.filter(pk__in=ids, status__in=_UNSENT).update(
            status=BatchStatus.CANCELLED, next_attempt_at=None, lease_expires_at=None,
            queued_at=None, last_error="cancelled by a recall")
        Recipient.objects.filter(batch_id__in=ids, outcome=Outcome.PENDING).update(
            outcome=Outcome.CANCELLED)
        for b in unsent:
            # Each batch was booked on its own day (a deferred or resent one later).
            day = b.ledger_day or (ledger_day(at=n.planned_at) if n.planned_at else None)
            if day is not None and never[b.pk]:
                ledger_release(tenant=n.tenant, day=day, userids=never[b.pk],
                               content_digest=b.content_digest)
        if any(b.queued_at is not None for b in unsent):
            # Their turns in the tenant's send window are free: its next batches may go.
            tenant_sends_promote_on_commit(tenant_id=n.tenant_id)
    deferred = Recipient.objects.filter(notification=n, batch__isnull=True,
                                        outcome=Outcome.PENDING).update(outcome=Outcome.CANCELLED)
    return len(ids) + deferred


def _close_lost(batches: list[NotificationBatch]) -> int:
    ids = [b.pk for b in batches if b.status == BatchStatus.UNKNOWN and b.task_id is None]
    if ids:
        NotificationBatch.objects.filter(pk__in=ids, status=BatchStatus.UNKNOWN,
                                         task_id__isnull=True).update(
            status=BatchStatus.DONE, next_attempt_at=None, lease_expires_at=None,
            last_error=_LOST_NOTE)
    return len(ids)


def _recall_finish(n: Notification, now: datetime) -> None:
    fields: dict = {"status": Status.RECALLED, "completed_at": now, "next_attempt_at": None,
                    "lease_expires_at": None}
    # Unknown without a task id, and duplicate: delivered by a send whose answer was lost.
    lost = Recipient.objects.filter(notification=n).filter(
        Q(outcome=Outcome.UNKNOWN, batch__task_id__isnull=True)
        | Q(outcome=Outcome.DUPLICATE)).count()
    if lost:
        fields["last_error"] = (f"{lost} recipient(s) may have the message from a send whose "
                                "answer was lost: without its task id DingTalk cannot recall it")
    Notification.objects.filter(pk=n.pk).update(**fields)
    notification_counts_refresh(notification=n)
    notification_finished_on_commit(notification_id=n.pk)


def _recall_batches(tenant: Tenant, targets: list[NotificationBatch],
                    recalled: set[int]) -> None:
    try:
        client = client_for(tenant)
        for batch in targets:
            try:
                client.work_notices.recall(tenant.agent_id, batch.task_id)
            except DingTalkError as exc:
                raise dingtalk_failure(RecallFailed, exc, "recall", batch,
                                        {"recalled_batches": len(recalled)}) from exc
            _record_recalled(batch)
            recalled.add(batch.pk)
    finally:
        left = [b.pk for b in targets if b.pk not in recalled]
        if left:  # the poller may take them again
            NotificationBatch.objects.filter(pk__in=left).update(lease_expires_at=None)


def _record_recalled(batch: NotificationBatch) -> None:
    with transaction.atomic():
        # Recipients first, then the batch: the poller's order, so the two never deadlock.
        Recipient.objects.filter(batch_id=batch.pk, outcome__in=_HAD).update(
            outcome=Outcome.RECALLED)
        NotificationBatch.objects.filter(pk=batch.pk, status__in=WITH_TASK).update(
            status=BatchStatus.DONE, next_attempt_at=None, lease_expires_at=None,
            last_error=RECALLED_NOTE)


def dingtalk_failure(cls: type[RecallFailed] | type[StatusBarFailed], exc: DingTalkError,
                      what: str, batch: NotificationBatch, extra: dict):
    """The ServiceError for DingTalk's refusal (errcode, errmsg) or its missing answer."""
    where = f"batch {batch.seq} (task {batch.task_id})"
    if isinstance(exc, ApiError):
        message = f"DingTalk refused the {what} of {where}: errcode {exc.errcode} {exc.errmsg}"
        details = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    else:
        message = (f"DingTalk gave no answer to the {what} of {where} "
                   f"({type(exc).__name__}); it may or may not have happened: ask again")
        details = {"error": type(exc).__name__}
    logger.warning("%s of %s failed: %s", what, where, exc)
    return cls(message, extra={**details, "batch": batch.seq, "task_id": batch.task_id, **extra})
