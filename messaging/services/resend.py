"""Resending a finished work notification to the recipients it failed for: a new notification
of the same tenant and message, made by notification_create (its checks, its idempotency)."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from messaging.errors_recall import NothingToResend, NotificationNotFinished
from messaging.models import Notification, Recipient
from messaging.services.ledger import ledger_day, ledger_release
from messaging.services.notifications import notification_create
from messaging.services.recall import locked_notification

logger = logging.getLogger("messaging.resend")

Status = Notification.Status
Outcome = Recipient.Outcome

_FINISHED = (Status.COMPLETED, Status.PARTIALLY_FAILED, Status.FAILED)
# DingTalk's system protection (PROTOCOL 3.3): dropped for now, not for the rest of the day.
RESEND_FORBIDDEN_CODES = frozenset({"1430003"})


def resendable_recipients(*, notification: Notification):
    """Its recipients a resend goes to, in planning order."""
    return Recipient.objects.filter(notification=notification).filter(
        Q(outcome=Outcome.FAILED)
        | Q(outcome=Outcome.FORBIDDEN, code__in=RESEND_FORBIDDEN_CODES)).order_by("id")


def notification_resend_failed(*, notification_id: int,
                               idempotency_key: str | None = None) -> Notification:
    """A new notification, same tenant and message (msg or template), to the recipients this
    finished one failed for. Its default idempotency key is `resend-failed:<id>`, so pressing
    twice makes one resend (a key used for another request: IdempotencyConflict).

    Resent: outcome failed (the send failed, or DingTalk refused the batch), and forbidden by
    DingTalk's system protection (1430003). Not: invalid users; the daily cap or identical
    content (143105/143205, 143106/143206, held_back: the same would happen again today);
    unknown (the send may have reached them: the sweep already sends such a batch once more the
    same day, when DingTalk's identical-content rule keeps it from arriving twice, and a resend
    later could deliver it twice). Only a finished notification (completed, partially failed,
    failed): before that its failures are not all known and the audience would still change.

    Recipients whose failure DingTalk reported in getsendresult keep this content's ledger
    booking for that day, which would hold the resend back as identical content: those are
    released when the resend is created (they never got it; whether DingTalk counts a failed
    delivery towards its daily cap is UNCERTAIN, PROTOCOL 3.3).
    """
    with transaction.atomic():
        # Two presses at once queue here; the second finds the first's resend by its key.
        original = locked_notification(notification_id)
        if original.status not in _FINISHED:
            raise NotificationNotFinished(
                f"the notification is {original.status}: resend once it has finished",
                extra={"status": original.status})
        rows = list(resendable_recipients(notification=original).values_list(
            "userid", "batch__task_id", "batch__ledger_day"))
        if not rows:
            raise NothingToResend("no recipient of this notification failed in a way a resend "
                                  "can fix", extra={"counts": original.counts})
        key = idempotency_key if idempotency_key is not None else f"resend-failed:{original.pk}"
        first = not Notification.objects.filter(tenant_id=original.tenant_id,
                                                idempotency_key=key).exists()
        template = bool(original.template_id)
        resend = notification_create(
            tenant=original.tenant, userids=[userid for userid, _, _ in rows],
            msg=None if template else original.msg,
            template_id=original.template_id if template else None,
            template_data=original.template_data if template else None,
            idempotency_key=key, defer_held=original.defer_held)
        if first:
            _release_reported(original, rows)
    logger.info("notification %s: %s failed recipient(s) resent as notification %s",
                original.pk, len(rows), resend.pk)
    return resend


def _release_reported(original: Notification, rows: list[tuple]) -> None:
    """Give back the bookings of recipients DingTalk reported failed. A refused batch's were
    given back when it was refused, and nobody else can hold this content's entry for them
    that day (it would have been held back), so only the original's own entries go."""
    by_day: dict = defaultdict(list)
    for userid, task_id, day in rows:
        if task_id is None:
            continue
        booked_on = day or (ledger_day(at=original.planned_at) if original.planned_at else None)
        if booked_on is not None:
            by_day[booked_on].append(userid)
    for day, userids in by_day.items():
        ledger_release(tenant=original.tenant, day=day, userids=userids,
                       content_digest=original.content_digest)
