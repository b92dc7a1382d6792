"""Sending a batch: claim it, check the tenant, take the limiter, hand it to DingTalk, record.

1. Claim (one conditional UPDATE): a queued PENDING batch (its tenant's window gave it a turn:
   services/pacing.py) whose next_attempt_at is due -> SENDING with a lease. Zero rows:
   another worker has it, or it is not due, not queued or not pending any more.
2. The tenant at send time: relieved cancels the batch (its recipients CANCELLED, ledger
   released); stopped or suspended holds it (HELD).
3. The limiter (notice_send_rules) for the batch's recipients: refused, the batch goes back to
   PENDING at now + retry_after, and DingTalk is not called.
4. One DingTalk call, no transaction: asyncsend_v2, or sendbytemplate for a template.
5. Record, in a short transaction: a task id -> SENT (recipients SENT, ledger BOOKED, the
   first poll due); the answer lost (dingtalk.repeat: a transport error or "busy" after the
   request may have left) -> UNKNOWN (recipients and ledger entries UNKNOWN; never resent
   blindly); throttled (RateLimited, or a failure before the send left such as the token
   fetch) -> PENDING with a backoff, FAILED after MESSAGING_SEND_MAX_ATTEMPTS such tries;
   refused by DingTalk -> FAILED with the errcode, recipients FAILED, ledger released.
6. A batch that left its tenant's window (anything but back to PENDING) gives the turn to the
   tenant's next batch (pacing.tenant_sends_promote).

An UNKNOWN batch without a task id is sent once more by the sweep while its ledger day lasts
(batches_sweep): DingTalk's identical-content rule drops it for whoever the lost send reached,
so nobody gets it twice and nobody who missed it is lost. Past its day it is DONE, its
recipients UNKNOWN for good.
"""

from __future__ import annotations

import contextlib
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q

from core import clock
from dingtalk.api.models import SendTask
from dingtalk.errors import ApiError, EgressLimited, QuotaExceeded
from dingtalk.messages import MessageError
from dingtalk.repeat import may_repeat, retryable_error
from messaging.limiter import LimiterUnavailable, acquire, notice_send_rules, usage
from messaging.limiter.egress import egress_gate_active, egress_prepaid
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.batch_queue import (
    batch_poll_enqueue_on_commit,
    batch_send_enqueue,
    batch_send_enqueue_on_commit,
)
from messaging.services.ledger import (
    ledger_confirm,
    ledger_day,
    ledger_mark_unknown,
    ledger_release,
)
from messaging.services.pacing import tenant_sends_promote, tenants_promote_sweep
from messaging.services.settling import notification_settle, notification_settle_if_due
from tenants.errors import TenantInactive
from tenants.models import Suite, Tenant
from tenants.services.call_budget import call_budget_exhausted
from tenants.services.clients import client_for

logger = logging.getLogger("messaging.sending")

Status = NotificationBatch.Status
Outcome = Recipient.Outcome
_MAX_ERROR = 2000
_NOTICES = "topapi/message/corpconversation"  # the sends' paths, as the egress gate sees them
# A notification's audience and counts (100,000 userids for a big one) are not what a send
# needs: loaded with every batch, they were decoded once per batch of 100.
_NOT_FOR_SENDING = ("notification__userids", "notification__dept_ids", "notification__counts",
                    "notification__dept_errors")


def batch_claim(*, batch_id: int) -> NotificationBatch | None:
    """Take a due PENDING batch for sending; None when it is not this worker's to send."""
    now = clock.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = NotificationBatch.objects.filter(
        due, id=batch_id, status=Status.PENDING, queued_at__isnull=False).update(
        status=Status.SENDING, claimed_at=now, lease_expires_at=now + timedelta(
            seconds=settings.MESSAGING_SEND_LEASE_S), next_attempt_at=None)
    if not claimed:
        return None
    return NotificationBatch.objects.select_related(
        "notification", "tenant", "tenant__suite").defer(*_NOT_FOR_SENDING).filter(
        pk=batch_id).first()


def _held(batch: NotificationBatch) -> Q:
    return Q(pk=batch.pk, status=Status.SENDING, claimed_at=batch.claimed_at)


def _update(batch: NotificationBatch, where: Q, **fields) -> bool:
    """A conditional UPDATE of the batch. Applied, the instance follows the row without reading
    it back (a re-read per send decoded its userids once more); else it is read again."""
    if NotificationBatch.objects.filter(where).update(**fields):
        for name, value in fields.items():
            setattr(batch, name, value)
        return True
    _reread(batch)
    return False


def _reread(batch: NotificationBatch) -> None:
    with contextlib.suppress(NotificationBatch.DoesNotExist):  # its notification was deleted
        batch.refresh_from_db()


def batch_send(*, batch_id: int) -> NotificationBatch | None:
    """Send one batch (at most one DingTalk task per claim; safe to run twice)."""
    batch = batch_claim(batch_id=batch_id)
    if batch is None:
        logger.info("batch %s not due for sending; skipping", batch_id)
        return None
    tenant = batch.tenant
    if not tenant.is_active:
        _inactive(batch)
    else:
        rules = _rules(tenant)
        # A single batch's departments count as the members planning found (audience_size),
        # capped at what one admission can hold (DingTalk drops any excess per minute: resent).
        amount = max(1, batch.audience_size or len(batch.userids))
        decision = acquire(rules, amount=min([amount, *(r.limit for r in rules
                                                         if not r.counts_calls)]))
        if not decision.allowed:
            _back_to_pending(batch, decision.retry_after_s + _fairness_delay(rules, decision),
                             f"limiter: {decision.blocking_rule or 'unavailable'}")
        else:
            _call(batch)
    if batch.status != Status.PENDING:
        # First: the tenant's next send is queued before this notification is recounted.
        tenant_sends_promote(tenant_id=batch.tenant_id)
    notification_settle_if_due(batch=batch)
    return batch


def _rules(tenant: Tenant):
    # The egress call too: the send's request then passes the transport's gate without a
    # second acquire (_call: egress_prepaid).
    api = "sendbytemplate" if _by_template(tenant) else "asyncsend_v2"
    if tenant.kind == Tenant.Kind.SUITE:
        key = tenant.suite.suite_key
        return notice_send_rules(app_key=key, corp_id=tenant.corp_id, suite_key=key, api=api)
    return notice_send_rules(app_key=tenant.app_key_label, corp_id=tenant.corp_id,
                             suite_key=None, api=api)


_SHARED = ("notice:suite:", "notice:corp:")


def _fairness_delay(rules, decision) -> float:
    """Extra wait for a tenant refused by a budget it shares with other tenants (the suite's
    per-minute total, or the corp's across its internal apps), in proportion to how much of it
    the tenant itself took in the window: when room frees, the tenant that sent least lately
    is there first. Without it, whichever retry task runs first wins, and a tenant with a
    huge notification would win as often as a tenant with one small batch."""
    delay = settings.MESSAGING_FAIRNESS_DELAY_S
    blocking = decision.blocking_rule or ""
    if delay <= 0 or not blocking.startswith(_SHARED):
        return 0.0
    # The shared per-minute rule (the blocking one may be its short, smoothing twin).
    minute = next((r for r in rules if r.key == blocking.removesuffix(":smooth")), None)
    if minute is None:
        return 0.0
    try:
        own = usage([rules[0]])[0]  # the tenant's (app, corp) rule: its own recipients
    except (LimiterUnavailable, DatabaseError):  # unreadable: no delay, the batch still waits
        return 0.0
    share = min(1.0, own.used / minute.limit)
    # Squared: the tenant that took most of the budget yields, while ten tenants sharing it
    # evenly lose almost nothing to waiting (each refusal's delay is lost rate).
    return delay * share * share


def _by_template(tenant: Tenant) -> bool:
    return (tenant.kind == Tenant.Kind.SUITE
            and tenant.suite.message_api == Suite.MessageApi.SEND_BY_TEMPLATE)


def _call(batch: NotificationBatch) -> None:
    n, tenant = batch.notification, batch.tenant
    api = "sendbytemplate" if n.template_id else "asyncsend_v2"
    prepaid = egress_prepaid(f"{_NOTICES}/{api}") if egress_gate_active() else (
        contextlib.nullcontext())
    try:
        with prepaid:
            task = _hand_over(batch, n, tenant)
    except TenantInactive:
        _inactive(batch)
    except Exception as exc:
        _record_error(batch, exc)
    else:
        _record_sent(batch, task.task_id, task.request_id)


def _hand_over(batch: NotificationBatch, n: Notification, tenant: Tenant) -> SendTask:
    """The one DingTalk call: asyncsend_v2, or sendbytemplate for a template."""
    client = client_for(tenant)
    if n.template_id:
        return client.work_notices.send_by_template(
            tenant.agent_id, n.template_id, n.template_data or {}, userids=batch.userids,
            dept_ids=batch.dept_ids)
    return client.work_notices.send(
        tenant.agent_id, n.msg, userids=batch.userids, dept_ids=batch.dept_ids,
        to_all_user=batch.to_all_user or (n.to_all_user_native and not batch.userids))


def _record_error(batch: NotificationBatch, exc: BaseException) -> None:
    described = f"{type(exc).__name__}: {exc}"
    if retryable_error(exc) or not isinstance(exc, ApiError | MessageError):
        path = getattr(exc, "path", None) or ""
        if retryable_error(exc) and may_repeat(path, exc):
            # Throttled, or failed before the send left (the token fetch): nothing was sent.
            if isinstance(exc, EgressLimited):  # our own budget: pacing, not a try
                _back_to_pending(batch, exc.retry_after or retry_delay(0), described)
            elif batch.attempts + 1 >= settings.MESSAGING_SEND_MAX_ATTEMPTS:
                code = str(getattr(exc, "errcode", "") or "gave_up")
                _record_failed(batch, code, f"gave up after {batch.attempts + 1} tries: "
                                            f"{described}")
            else:
                _back_to_pending(batch, retry_delay(batch.attempts), described, tried=True)
        else:
            _record_unknown(batch, described)
        return
    code = str(getattr(exc, "errcode", "") or getattr(exc, "sub_code", "") or "")
    if isinstance(exc, QuotaExceeded) and getattr(exc, "errcode", None) == 90020:
        call_budget_exhausted(tenant=batch.tenant, detail=described)
    _record_failed(batch, code, described)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try of a throttled send: exponential, jittered, capped."""
    base = settings.MESSAGING_SEND_RETRY_BASE_S * 2 ** max(attempts, 0)
    ceiling = min(settings.MESSAGING_SEND_RETRY_MAX_S, base)
    return ceiling / 2 + random.random() * ceiling / 2  # noqa: S311 (jitter, not secrecy)


def _day(batch: NotificationBatch):
    """The ledger day the batch's recipients were booked on when it was cut."""
    if batch.ledger_day is not None:
        return batch.ledger_day
    return ledger_day(at=batch.notification.planned_at or clock.now())


# The batch SENT with its task id and its recipients SENT, in one statement (the batch's row
# first: its lock orders this against the sweep, which marks both UNKNOWN the same way round).
# A claim lost meanwhile (the sweep took an expired lease: UNKNOWN) still gets its task id:
# DingTalk has the task, and the poller settles it.
_SENT_SQL = """
WITH sent AS (
    UPDATE {batch} SET status = %(sent)s, task_id = %(task_id)s, request_id = %(request_id)s,
        sent_at = %(now)s, lease_expires_at = NULL, attempts = %(attempts)s, last_error = '',
        poll_until = %(poll_until)s, next_attempt_at = %(next_attempt_at)s
    WHERE id = %(batch)s
      AND (status = %(sending)s OR (status = %(unknown)s AND task_id IS NULL))
    RETURNING id),
moved AS (
    UPDATE {recipient} SET outcome = %(recipient_sent)s
    WHERE batch_id IN (SELECT id FROM sent)
      AND outcome IN (%(recipient_pending)s, %(recipient_unknown)s)
    RETURNING 1)
SELECT (SELECT count(*) FROM sent), (SELECT count(*) FROM moved)
"""


def _record_sent(batch: NotificationBatch, task_id: int, request_id: str | None = None) -> None:
    now = clock.now()
    fields = {"status": Status.SENT, "task_id": task_id, "request_id": (request_id or "")[:64],
              "sent_at": now, "lease_expires_at": None, "attempts": batch.attempts + 1,
              "last_error": "",
              "poll_until": now + timedelta(seconds=settings.MESSAGING_POLL_WINDOW_S),
              "next_attempt_at": now + timedelta(seconds=settings.MESSAGING_POLL_FIRST_S)}
    with transaction.atomic():
        if connection.vendor != "postgresql":
            applied = _record_sent_portable(batch, fields)
        else:
            with connection.cursor() as cursor:
                cursor.execute(_SENT_SQL.format(batch=NotificationBatch._meta.db_table,
                                                recipient=Recipient._meta.db_table), {
                    "task_id": task_id, "request_id": fields["request_id"], "now": now,
                    "attempts": fields["attempts"], "poll_until": fields["poll_until"],
                    "next_attempt_at": fields["next_attempt_at"], "sent": Status.SENT.value,
                    "batch": batch.pk,
                    "sending": Status.SENDING.value, "unknown": Status.UNKNOWN.value,
                    "recipient_sent": Outcome.SENT.value,
                    "recipient_pending": Outcome.PENDING.value,
                    "recipient_unknown": Outcome.UNKNOWN.value})
                (applied, _), = cursor.fetchall()
        # Planning booked them; only entries a lost answer made UNKNOWN need settling.
        ledger_confirm(tenant=batch.tenant, day=_day(batch), userids=batch.userids,
                       content_digest=batch.content_digest)
        batch_poll_enqueue_on_commit(batch_id=batch.pk,
                                     countdown=settings.MESSAGING_POLL_FIRST_S)
    if applied:
        for name, value in fields.items():
            setattr(batch, name, value)
    else:
        _reread(batch)
    logger.info("batch %s sent: task %s, %s recipients", batch.pk, task_id, len(batch.userids))


def _record_sent_portable(batch: NotificationBatch, fields: dict) -> int:
    """_SENT_SQL in two ORM statements, for SQLite (the demo: no UPDATE in a WITH clause);
    the caller's transaction holds them together."""
    applied = NotificationBatch.objects.filter(
        Q(status=Status.SENDING) | Q(status=Status.UNKNOWN, task_id__isnull=True),
        pk=batch.pk).update(**fields)
    if applied:
        Recipient.objects.filter(batch_id=batch.pk,
                                 outcome__in=(Outcome.PENDING, Outcome.UNKNOWN)).update(
            outcome=Outcome.SENT)
    return applied


def _record_unknown(batch: NotificationBatch, note: str) -> None:
    with transaction.atomic():
        if not _update(batch, _held(batch), status=Status.UNKNOWN, lease_expires_at=None,
                       sent_at=clock.now(), attempts=batch.attempts + 1,
                       last_error=note[:_MAX_ERROR]):
            return
        batch_mark_unknown(batch=batch)
    logger.warning("batch %s: the send's answer was lost (%s); marked unknown, not resent",
                   batch.pk, note)


def batch_mark_unknown(*, batch: NotificationBatch) -> None:
    """Its recipients and ledger entries UNKNOWN (inside the caller's transaction)."""
    Recipient.objects.filter(batch=batch, outcome=Outcome.PENDING).update(
        outcome=Outcome.UNKNOWN)
    ledger_mark_unknown(tenant=batch.tenant, day=_day(batch), userids=batch.userids,
                        content_digest=batch.content_digest)


def _record_failed(batch: NotificationBatch, code: str, note: str) -> None:
    with transaction.atomic():
        if not _update(batch, _held(batch), status=Status.FAILED, lease_expires_at=None,
                       attempts=batch.attempts + 1, last_error=note[:_MAX_ERROR]):
            return
        Recipient.objects.filter(batch=batch, outcome=Outcome.PENDING).update(
            outcome=Outcome.FAILED, code=code[:32], detail=note[:_MAX_ERROR])
        ledger_release(tenant=batch.tenant, day=_day(batch), userids=batch.userids,
                       content_digest=batch.content_digest)
    logger.warning("batch %s refused by DingTalk: %s", batch.pk, note)


def _back_to_pending(batch: NotificationBatch, delay: float, note: str, *,
                     tried: bool = False) -> None:
    """Due again in `delay`, keeping its turn in the tenant's window. `tried`: DingTalk was
    asked and throttled or failed (counts towards MESSAGING_SEND_MAX_ATTEMPTS); a limiter
    refusal is pacing, not a try."""
    delay = max(delay, 0.05)
    with transaction.atomic():
        if _update(batch, _held(batch), status=Status.PENDING, lease_expires_at=None,
                   last_error=note[:_MAX_ERROR], attempts=batch.attempts + (1 if tried else 0),
                   next_attempt_at=clock.now() + timedelta(seconds=delay)):
            batch_send_enqueue_on_commit(batch_id=batch.pk, countdown=delay)
    logger.info("batch %s back to pending for %.1f s (%s)", batch.pk, delay, note)


def _inactive(batch: NotificationBatch) -> None:
    """Relieved: cancel the batch; stopped or suspended: hold it."""
    tenant = Tenant.objects.get(pk=batch.tenant_id)
    with transaction.atomic():
        if tenant.status == Tenant.Status.RELIEVED:
            if _update(batch, _held(batch), status=Status.CANCELLED, lease_expires_at=None,
                       queued_at=None, last_error="the tenant relieved the app"):
                Recipient.objects.filter(batch=batch, outcome=Outcome.PENDING).update(
                    outcome=Outcome.CANCELLED)
                ledger_release(tenant=tenant, day=_day(batch), userids=batch.userids,
                               content_digest=batch.content_digest)
        else:
            # Held gives up its turn: lifecycle promotes it again when the tenant is back.
            _update(batch, _held(batch), status=Status.HELD, lease_expires_at=None,
                    queued_at=None, last_error=f"tenant inactive: {tenant.status}"
                                               f"{' (suspended)' if tenant.suspended else ''}")
    logger.info("batch %s: tenant %s inactive (%s)", batch.pk, tenant.corp_id, tenant.status)


def batches_sweep(*, pending_after: timedelta, limit: int = 500) -> list[int]:
    """What no queue holds any more:
    - SENDING batches whose lease ran out (a dead worker whose request may have left) become
      UNKNOWN, never resent blindly;
    - UNKNOWN batches without a task id, MESSAGING_UNKNOWN_RESEND_AFTER_S after the send, are
      sent once more while their ledger day lasts, else DONE (unknown_batches_settle);
    - queued PENDING batches due longer ago than `pending_after` (a lost message) are queued
      again, and tenants with parked batches and room in their window are promoted.
    Returns the ids whose sends were queued."""
    now = clock.now()
    for batch in NotificationBatch.objects.filter(
            status=Status.SENDING, lease_expires_at__lt=now).select_related(
            "notification", "tenant")[:limit]:
        with transaction.atomic():
            if NotificationBatch.objects.filter(_held(batch)).update(
                    status=Status.UNKNOWN, lease_expires_at=None, sent_at=now,
                    last_error="the sender's lease ran out; its request may have left"):
                batch_mark_unknown(batch=batch)
        notification_settle(notification_id=batch.notification_id)
        tenant_sends_promote(tenant_id=batch.tenant_id)
    unknown_batches_settle(limit=limit)
    ids = list(NotificationBatch.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - pending_after),
        status=Status.PENDING, queued_at__isnull=False,
    ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    for batch_id in ids:
        batch_send_enqueue(batch_id=batch_id)
    if ids:
        logger.info("sweep queued %s batch send(s)", len(ids))
    return ids + tenants_promote_sweep(limit=limit)


def unknown_batches_settle(*, limit: int = 500) -> list[int]:
    """UNKNOWN batches without a task id, old enough: sent again (back to PENDING, parked for
    a turn) while their ledger day lasts and resends remain, else DONE with their recipients
    UNKNOWN for good. Returns the ids sent again."""
    now = clock.now()
    settled = now - timedelta(seconds=settings.MESSAGING_UNKNOWN_RESEND_AFTER_S)
    today = ledger_day(at=now)
    resent: list[int] = []
    for batch in NotificationBatch.objects.filter(
            status=Status.UNKNOWN, task_id__isnull=True, sent_at__lte=settled
    ).select_related("notification")[:limit]:
        again = (batch.resends < settings.MESSAGING_UNKNOWN_RESENDS
                 and _day(batch) == today and batch.notification.status not in
                 (batch.notification.Status.CANCELLED, batch.notification.Status.RECALLED))
        fields = ({"status": Status.PENDING, "queued_at": None, "next_attempt_at": None,
                   "resends": batch.resends + 1,
                   "last_error": "sent again the same day: its first answer was lost"}
                  if again else
                  {"status": Status.DONE, "next_attempt_at": None,
                   "last_error": batch.last_error or "the send's answer was lost"})
        if NotificationBatch.objects.filter(pk=batch.pk, status=Status.UNKNOWN,
                                            task_id__isnull=True).update(**fields):
            if again:
                resent.append(batch.pk)
                tenant_sends_promote(tenant_id=batch.tenant_id)
            notification_settle(notification_id=batch.notification_id)
    if resent:
        logger.info("sweep sends %s unknown batch(es) again the same day", len(resent))
    return resent
