"""Planning a notification: claim it, expand its audience, apply the ledger, cut batches.

1. Claim (one conditional UPDATE): ACCEPTED (a retry only once its next_attempt_at is due), or
   PLANNING whose lease ran out (its worker died) -> PLANNING with a lease. Zero rows: another
   worker has it, or it is finished. A SENDING notification whose deferred recipients are due
   (next_attempt_at) is claimed the same way, keeping its status.
2. Expand the audience (messaging/services/audience.py): DingTalk calls, no transaction.
3. Record, in one transaction, only while the claim still holds: Recipient rows (bulk, in
   chunks), the ledger's admissions and bookings for today, batches of at most 100 userids,
   and the next status: SENDING, or COMPLETED when nothing is left to send (FAILED when no
   department could be read and nobody was named).
   A single-batch notification (the seed's asyncsend_v2) gets exactly one batch: its admitted
   named users, its dept_ids and to_all_user as given (DingTalk expands the departments), and
   the department members counted here as its audience_size (the limiter's amount); polling
   adds rows for anyone DingTalk's expansion reached that this one did not
   (batch_recipients_add).

A failure a retry can fix puts it back to ACCEPTED with a backoff (the countdown task is the
fast path, the sweep the one that survives a dead worker); an inactive tenant holds it (HELD) or,
relieved, cancels it; anything else fails it with the reason.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Max, Q

from core import clock
from dingtalk.repeat import retryable_error
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.audience import audience_expand
from messaging.services.finishing import notification_finished_on_commit
from messaging.services.ledger import (
    daily_cap_for,
    ledger_admit,
    ledger_book,
    ledger_day,
    ledger_next_day_start,
)
from messaging.services.notifications import (
    notification_counts_refresh,
    notification_plan_enqueue,
    notification_plan_enqueue_on_commit,
)
from messaging.services.pacing import tenant_sends_promote_on_commit
from tenants.errors import NoSuiteTicket, TenantInactive
from tenants.models import Tenant

logger = logging.getLogger("messaging.planning")

Status = Notification.Status
Outcome = Recipient.Outcome
_CHUNK = 5000
_MAX_ERROR = 2000


def _lease() -> timedelta:
    return timedelta(seconds=settings.MESSAGING_PLAN_LEASE_S)


def notification_claim(*, notification_id: int) -> Notification | None:
    """Take the notification for planning; None when it is not this worker's to plan."""
    now = clock.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    due = (Q(status=Status.ACCEPTED, plan_attempts=0)
           | Q(status=Status.ACCEPTED, next_attempt_at__isnull=True)
           | Q(status=Status.ACCEPTED, next_attempt_at__lte=now)
           | Q(status=Status.PLANNING, lease_expires_at__lt=now))
    claimed = Notification.objects.filter(due, id=notification_id).update(
        status=Status.PLANNING, plan_attempts=F("plan_attempts") + 1, claimed_at=now,
        lease_expires_at=now + _lease(), next_attempt_at=None)
    if not claimed:
        claimed = Notification.objects.filter(
            free, id=notification_id, status=Status.SENDING, next_attempt_at__lte=now,
        ).update(claimed_at=now, lease_expires_at=now + _lease())
    if not claimed:
        return None
    return Notification.objects.select_related("tenant", "tenant__suite").get(pk=notification_id)


def _held(notification: Notification) -> Q:
    return Q(pk=notification.pk, status=notification.status, claimed_at=notification.claimed_at)


def notification_plan(*, notification_id: int) -> Notification | None:
    """Plan one notification (safe to run twice: the claim lets one run at a time)."""
    notification = notification_claim(notification_id=notification_id)
    if notification is None:
        logger.info("notification %s not due for planning; skipping", notification_id)
        return None
    try:
        if notification.status == Status.SENDING:
            _plan_deferred(notification)
        elif notification.plan_attempts > settings.MESSAGING_PLAN_MAX_ATTEMPTS:
            _finish(notification, Status.FAILED,
                    f"gave up after {notification.plan_attempts - 1} attempts")
        else:
            _plan_first(notification)
    except TenantInactive as exc:
        relieved = notification.tenant.status == Tenant.Status.RELIEVED
        _finish(notification, Status.CANCELLED if relieved else Status.HELD,
                f"{exc.code}: {exc.message}")
    except Exception as exc:
        _record_failure(notification, exc)
    notification.refresh_from_db()
    return notification


def _plan_first(notification: Notification) -> None:
    tenant = notification.tenant
    if not tenant.is_active:
        # Even an audience of userids (no DingTalk call) waits: the lifecycle plans it again
        # when the tenant is back, with that day's ledger.
        raise TenantInactive(f"tenant {tenant.corp_id} is not active ({tenant.status}"
                             f"{', suspended' if tenant.suspended else ''})")
    if notification.to_all_user_native:
        userids, inactive, dept_errors = [], set(), []
    else:
        audience = audience_expand(tenant=tenant, userids=notification.userids,
                                   dept_ids=notification.dept_ids,
                                   to_all_user=notification.to_all_user)
        userids, inactive, dept_errors = audience.userids, audience.inactive, audience.dept_errors
    with transaction.atomic():
        if not Notification.objects.select_for_update().filter(_held(notification)).exists():
            logger.info("notification %s: claim lost (cancelled or taken back)", notification.pk)
            return
        now = clock.now()
        day = ledger_day(at=now)
        active = [u for u in userids if u not in inactive]
        admitted, held = ledger_admit(tenant=tenant, day=day, userids=active,
                                      content_digest=notification.content_digest,
                                      daily_cap=daily_cap_for(tenant=tenant))
        ledger_book(tenant=tenant, day=day, userids=admitted,
                    content_digest=notification.content_digest)
        chunks = _cut(admitted)
        if notification.to_all_user_native:
            chunks = [[]]  # DingTalk's own to_all_user: one task, no per-recipient rows
        if notification.single_batch:
            chunks = _single_chunk(notification, admitted)
        batch_ids = _create_batches(notification, chunks, first_seq=1, day=day)
        batch_of = {u: batch_ids[i] for i, chunk in enumerate(chunks) for u in chunk}
        Recipient.objects.bulk_create(
            (_recipient(notification, u, batch_of.get(u), inactive, held) for u in userids),
            batch_size=_CHUNK)
        deferred = notification.defer_held and bool(held)
        if chunks or deferred:
            status, completed = Status.SENDING, None
        elif not userids and dept_errors:
            status, completed = Status.FAILED, now
        else:
            status, completed = Status.COMPLETED, now
        Notification.objects.filter(pk=notification.pk).update(
            status=status, planned_at=now, completed_at=completed, dept_errors=dept_errors,
            lease_expires_at=None, last_error="",
            next_attempt_at=ledger_next_day_start(at=now) if deferred else None)
        notification_counts_refresh(notification=notification)
        if completed is not None:
            notification_finished_on_commit(notification_id=notification.pk)
    logger.info("notification %s planned: %s recipients, %s batches, %s held, %s unreadable "
                "departments", notification.pk, len(userids), len(chunks), len(held),
                len(dept_errors))


def _recipient(notification: Notification, userid: str, batch_id: int | None,
               inactive: set[str], held: dict[str, str]) -> Recipient:
    row = Recipient(notification_id=notification.pk, tenant_id=notification.tenant_id,
                    userid=userid, batch_id=batch_id)
    if userid in inactive:
        row.outcome, row.detail = Outcome.INACTIVE, "DingTalk lists the user as not active"
    elif userid in held and not notification.defer_held:
        row.outcome, row.code = Outcome.HELD_BACK, held[userid]
    return row


def _cut(userids: list[str]) -> list[list[str]]:
    size = settings.MESSAGING_BATCH_SIZE
    return [userids[i:i + size] for i in range(0, len(userids), size)]


def _single_chunk(notification: Notification, admitted: list[str]) -> list[list[str]]:
    """A single-batch notification's one chunk: everyone admitted (named users and the members
    its departments were expanded into). Nothing to send only when no named user was admitted
    and it names no department and not the whole company: departments go to DingTalk as given,
    which applies its own daily rules to members the ledger held (they stay held_back here)."""
    if admitted or notification.dept_ids or notification.to_all_user:
        return [admitted]
    return []


def _batch(notification: Notification, seq: int, chunk: list[str], day) -> NotificationBatch:
    batch = NotificationBatch(notification_id=notification.pk, tenant_id=notification.tenant_id,
                              seq=seq, userids=chunk, content_digest=notification.content_digest,
                              ledger_day=day)
    if notification.single_batch:
        # DingTalk gets the named users, departments and to_all_user as given; the chunk also
        # holds the department members counted at planning (the limiter's amount).
        named = set(notification.userids)
        batch.userids = [u for u in chunk if u in named]
        batch.dept_ids, batch.to_all_user = notification.dept_ids, notification.to_all_user
        batch.audience_size = len(chunk)
    return batch


def _create_batches(notification: Notification, chunks: list[list[str]], *,
                    first_seq: int, day) -> list[int]:
    """The batches, parked: once the transaction commits, the tenant's send window
    (services/pacing.py) queues as many as it has room for."""
    batches = NotificationBatch.objects.bulk_create(
        [_batch(notification, first_seq + i, chunk, day) for i, chunk in enumerate(chunks)],
        batch_size=1000)
    if batches:
        tenant_sends_promote_on_commit(tenant_id=notification.tenant_id)
    return [b.pk for b in batches]


def _plan_deferred(notification: Notification) -> None:
    """Deferred recipients' next day: admit those the ledger lets through now, batch them."""
    tenant = notification.tenant
    with transaction.atomic():
        if not Notification.objects.select_for_update().filter(_held(notification)).exists():
            return
        now = clock.now()
        day = ledger_day(at=now)
        waiting = Recipient.objects.filter(notification=notification, batch__isnull=True,
                                           outcome=Outcome.PENDING)
        userids = list(waiting.order_by("id").values_list("userid", flat=True))
        admitted, held = ledger_admit(tenant=tenant, day=day, userids=userids,
                                      content_digest=notification.content_digest,
                                      daily_cap=daily_cap_for(tenant=tenant))
        ledger_book(tenant=tenant, day=day, userids=admitted,
                    content_digest=notification.content_digest)
        chunks = _cut(admitted)
        last = notification.batches.aggregate(m=Max("seq"))["m"] or 0
        batch_ids = _create_batches(notification, chunks, first_seq=last + 1, day=day)
        for batch_id, chunk in zip(batch_ids, chunks, strict=True):
            waiting.filter(userid__in=chunk).update(batch_id=batch_id)
        Notification.objects.filter(pk=notification.pk).update(
            lease_expires_at=None,
            next_attempt_at=ledger_next_day_start(at=now) if held else None)
    logger.info("notification %s: %s deferred recipients admitted, %s wait another day",
                notification.pk, len(admitted), len(held))


def _finish(notification: Notification, status: str, note: str, *,
            next_attempt_at=None) -> bool:
    """Record an outcome while the claim holds (False: it was cancelled or taken back)."""
    if notification.status == Status.SENDING:  # a deferred run: release it, retry later
        status, next_attempt_at = Status.SENDING, next_attempt_at or clock.now() + _lease()
    final = status in Notification.FINAL
    written = bool(Notification.objects.filter(_held(notification)).update(
        status=status, last_error=note[:_MAX_ERROR], lease_expires_at=None,
        next_attempt_at=next_attempt_at, completed_at=clock.now() if final else None))
    if written and final:
        notification_finished_on_commit(notification_id=notification.pk)
    return written


def _retryable(exc: BaseException) -> bool:
    return retryable_error(exc) or isinstance(exc, NoSuiteTicket | OperationalError
                                              | InterfaceError)


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential, jittered, capped."""
    base = settings.MESSAGING_PLAN_RETRY_BASE_S * 2 ** max(attempts - 1, 0)
    ceiling = min(settings.MESSAGING_PLAN_RETRY_MAX_S, base)
    return ceiling / 2 + random.random() * ceiling / 2  # noqa: S311 (jitter, not secrecy)


def _record_failure(notification: Notification, exc: BaseException) -> None:
    described = f"{type(exc).__name__}: {exc}"
    if not _retryable(exc):
        logger.exception("notification %s: planning failed for good", notification.pk)
        _finish(notification, Status.FAILED, f"not retryable: {described}")
        return
    delay = retry_delay(notification.plan_attempts)
    due = clock.now() + timedelta(seconds=delay)
    if _finish(notification, Status.ACCEPTED, described, next_attempt_at=due):
        notification_plan_enqueue_on_commit(notification_id=notification.pk, countdown=delay)
    logger.warning("notification %s planning attempt %s: %s; retry in %.0f s",
                   notification.pk, notification.plan_attempts, type(exc).__name__, delay)


def notifications_sweep(*, pending_after: timedelta, limit: int = 500) -> list[int]:
    """Queue planning again for what no queue holds: ACCEPTED notifications due longer ago
    than `pending_after` (a lost message), PLANNING ones whose lease ran out (a dead worker),
    and SENDING ones whose deferred recipients are due. Returns the ids queued."""
    now = clock.now()
    stale = now - pending_after
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    ids = list(Notification.objects.filter(
        Q(status=Status.ACCEPTED, next_attempt_at__lte=stale)
        | Q(status=Status.ACCEPTED, next_attempt_at__isnull=True)
        | Q(status=Status.PLANNING, lease_expires_at__lt=now)
        | Q(free, status=Status.SENDING, next_attempt_at__lte=now),
    ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    for notification_id in ids:
        notification_plan_enqueue(notification_id=notification_id)
    if ids:
        logger.info("sweep queued planning for %s notification(s)", len(ids))
    return ids


def batch_recipients_add(*, batch: NotificationBatch, userids: list[str]) -> int:
    """Recipient rows (SENT, on `batch`) for users DingTalk's result names that planning did
    not: a single batch's departments are expanded by DingTalk at send time, and someone may
    have joined since. They are booked on the batch's ledger day (DingTalk counted them).
    Inside the caller's transaction; returns how many were added."""
    known = set(Recipient.objects.filter(notification_id=batch.notification_id,
                                         userid__in=userids).values_list("userid", flat=True))
    new = [u for u in dict.fromkeys(userids) if u not in known and 0 < len(u) <= 64]
    if not new:
        return 0
    Recipient.objects.bulk_create(
        [Recipient(notification_id=batch.notification_id, tenant_id=batch.tenant_id, userid=u,
                   batch_id=batch.pk, outcome=Outcome.SENT) for u in new],
        batch_size=_CHUNK, ignore_conflicts=True)
    ledger_book(tenant=batch.tenant, day=batch.ledger_day or ledger_day(at=batch.sent_at),
                userids=new, content_digest=batch.content_digest)
    return len(new)
