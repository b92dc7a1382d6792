"""Polling a batch DingTalk has (SENT, or UNKNOWN with a task id) to per-recipient outcomes.

1. Claim (conditional UPDATE): a SENT or UNKNOWN batch with a task id whose next_attempt_at is
   due and whose poll lease is free. Zero rows: not due, someone else polls it, or it is done.
2. Past poll_until (MESSAGING_POLL_WINDOW_S after the send; DingTalk keeps a task 24 h): DONE,
   no call. Polling stops there.
3. A batch of named users: getsendresult alone, which lists only the recipients DingTalk has
   processed; while one still waits (SENT, UNKNOWN) the next poll comes soon, backing off with
   the task's age. A batch DingTalk expands (departments, to_all_user) or a native to_all_user
   task: getsendprogress until status 2 first. Afterwards only getsendresult, to refresh read
   status, every half of the task's age (1 min to 1 h) until poll_until; DONE once everyone
   has read it.
4. The result, recipient by recipient: read / unread (delivered), invalid_user, failed,
   forbidden with its code. DingTalk drops recipients over a per-minute quota silently
   (143103, 143104, 143203, 143204): they go into a new PENDING batch due after the window and
   are sent again. Daily-cap and identical-content codes (143105, 143205, 143106, 143206) are
   final outcomes with the code.

Reads are safe to repeat (dingtalk/repeat.py): a transport error or throttling only moves
next_attempt_at. The countdown task is the fast path for progress; read refreshes and anything
a dead worker dropped are picked up by the sweep (polls_sweep) from next_attempt_at.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q

from core import clock
from dingtalk.api.models import SendResult
from dingtalk.errors import ApiError, QuotaExceeded
from dingtalk.repeat import retryable_error
from messaging.limiter import acquire, app_api_calls_rule, egress_rule
from messaging.limiter.egress import egress_gate_active, egress_prepaid
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.batch_queue import (
    batch_poll_enqueue,
    batch_poll_enqueue_on_commit,
)
from messaging.services.ledger import ledger_book, ledger_day
from messaging.services.planning import batch_recipients_add
from messaging.services.settling import notification_settle, notification_settle_if_due
from tenants.errors import TenantInactive
from tenants.models import Tenant
from tenants.services.call_budget import call_budget_exhausted, call_budget_left, current_month
from tenants.services.clients import client_for

logger = logging.getLogger("messaging.polling")

Status = NotificationBatch.Status
Outcome = Recipient.Outcome
# DingTalk's per-minute quota codes (PROTOCOL 3.3): dropped now, deliverable after the window.
PER_MINUTE_CODES = frozenset({"143103", "143104", "143203", "143204"})
# Identical content the same day: on a same-day resend of a batch whose first answer was lost,
# this means the first send reached the user (a DUPLICATE, delivered), not a failure.
IDENTICAL_CONTENT_CODES = frozenset({"143106", "143206"})
_NOTICES = "topapi/message/corpconversation"  # the polls' paths, as the egress gate sees them
_POLLED = (Status.SENT, Status.UNKNOWN)
_WAITING = (Outcome.SENT, Outcome.UNKNOWN)
_MAX_ERROR = 2000


def batch_poll_claim(*, batch_id: int) -> NotificationBatch | None:
    """Take a due batch for polling; None when it is not this worker's to poll."""
    now = clock.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    claimed = NotificationBatch.objects.filter(
        free, id=batch_id, status__in=_POLLED, task_id__isnull=False,
        next_attempt_at__lte=now,
    ).update(claimed_at=now, lease_expires_at=now + timedelta(
        seconds=settings.MESSAGING_POLL_LEASE_S))
    if not claimed:
        return None
    # (None if the row went meanwhile: its notification was deleted.)
    return NotificationBatch.objects.select_related("tenant", "tenant__suite").filter(
        pk=batch_id).first()


def _held(batch: NotificationBatch) -> Q:
    return Q(pk=batch.pk, status__in=_POLLED, claimed_at=batch.claimed_at)


def _update(batch: NotificationBatch, **fields) -> bool:
    """Update the batch if this poll still holds it. Applied, the instance follows the row
    without reading it back (a re-read per poll decoded its userids once more); else it is
    read again."""
    if NotificationBatch.objects.filter(_held(batch)).update(**fields):
        for name, value in fields.items():
            setattr(batch, name, value)
        return True
    _reread(batch)
    return False


def _reread(batch: NotificationBatch) -> None:
    with contextlib.suppress(NotificationBatch.DoesNotExist):  # its notification was deleted
        batch.refresh_from_db()


def batch_poll(*, batch_id: int) -> NotificationBatch | None:
    """Poll one batch once (safe to run twice: the claim lets one run at a time)."""
    batch = batch_poll_claim(batch_id=batch_id)
    if batch is None:
        logger.info("batch %s not due for polling; skipping", batch_id)
        return None
    sent_again = 0
    if batch.poll_until is not None and clock.now() >= batch.poll_until:
        _finish(batch, "polling window over")
    else:
        sent_again = _poll(batch)
    if sent_again:  # a new pending batch: the notification is sending again
        notification_settle(notification_id=batch.notification_id)
    else:
        notification_settle_if_due(batch=batch, polled=True)
    return batch


def _waiting(batch: NotificationBatch) -> bool:
    if batch.progress_only:  # a native to_all_user task: only its progress is known
        return True
    return Recipient.objects.filter(batch=batch, outcome__in=_WAITING).exists()


def _result_answers(batch: NotificationBatch) -> bool:
    """getsendresult alone tells who is done in a batch of named users: it lists only the
    recipients DingTalk has processed, and the others stay waiting for the next poll. So no
    getsendprogress first: one call per poll instead of two (and of the monthly call budget)."""
    return bool(batch.userids) and not batch.dept_ids and not batch.to_all_user


def _poll(batch: NotificationBatch) -> int:
    """One poll; returns how many recipients were put into a new batch to send again."""
    tenant = batch.tenant
    try:
        client = client_for(tenant)
        if not _result_answers(batch) and _waiting(batch):
            with _api_call(tenant, "getsendprogress"):
                progress = client.work_notices.progress(tenant.agent_id, batch.task_id)
            if not progress.done:
                _again(batch, _progress_delay(batch), f"progress {progress.percent}%",
                       enqueue=True)
                return 0
            if batch.progress_only:
                _finish(batch, "")
                return 0
        with _api_call(tenant, "getsendresult"):
            result = client.work_notices.result(tenant.agent_id, batch.task_id)
    except _NoRoom as wait:
        # Read refreshes fall due together (the sweep queues them at once): the app's 20 calls
        # per second per API are kept here, without holding a worker in the client's retry.
        _again(batch, wait.retry_after_s, wait.note, enqueue=True)
    except TenantInactive:
        if Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.RELIEVED).exists():
            _finish(batch, "the tenant relieved the app")
        else:
            _again(batch, _read_delay(batch), "tenant inactive")
    except QuotaExceeded as exc:
        # The month's call budget is spent (ours, or DingTalk's 90020): wait for the next
        # month; past poll_until that is the end of polling (_next_at caps it).
        if exc.errcode == 90020:
            call_budget_exhausted(tenant=tenant, detail=str(exc))
        _again(batch, _until_next_month(), f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        described = f"{type(exc).__name__}: {exc}"
        if retryable_error(exc):
            _again(batch, _progress_delay(batch), described, enqueue=True)
        elif isinstance(exc, ApiError):  # 40035: the task is gone (past DingTalk's 24 h)
            _finish(batch, described)
        else:
            raise
    else:
        return _record_result(batch, result)
    return 0


class _NoRoom(Exception):
    def __init__(self, retry_after_s: float, note: str) -> None:
        super().__init__(note)
        self.retry_after_s, self.note = max(retry_after_s, 0.05), note


@contextlib.contextmanager
def _api_call(tenant: Tenant, api: str) -> Iterator[None]:
    """One call of the app's per-API budget (90018: 20 per second) and of the egress budget
    (which the call's request then does not take again in the transport's gate), or _NoRoom.
    An unavailable limiter lets the poll through: a poll only reads, and DingTalk's throttle
    is retried."""
    app_key = tenant.suite.suite_key if tenant.kind == Tenant.Kind.SUITE else \
        tenant.app_key_label
    gated = egress_gate_active()
    rules = [app_api_calls_rule(app_key=app_key, api=api), *([egress_rule()] if gated else [])]
    decision = acquire(rules, 1)
    if not decision.allowed and not decision.unavailable:
        raise _NoRoom(decision.retry_after_s, f"limiter: {decision.blocking_rule}")
    with egress_prepaid(f"{_NOTICES}/{api}") if gated and decision.allowed else (
            contextlib.nullcontext()):
        yield


def _age_s(batch: NotificationBatch) -> float:
    return max(0.0, (clock.now() - (batch.sent_at or clock.now())).total_seconds())


def _stretch(batch: NotificationBatch) -> float:
    """How much further apart polls are as the tenant's monthly call budget runs down: x1
    above half, x2 above a quarter, x4 above a tenth, x8 below (and no read refreshes)."""
    left = call_budget_left(tenant=batch.tenant)
    if left is None or left > 0.5:
        return 1.0
    return 2.0 if left > 0.25 else 4.0 if left > 0.1 else 8.0


def _progress_delay(batch: NotificationBatch, stretch: float | None = None) -> float:
    stretch = _stretch(batch) if stretch is None else stretch
    return stretch * min(max(_age_s(batch) / 4, settings.MESSAGING_POLL_FIRST_S),
                         settings.MESSAGING_POLL_PROGRESS_MAX_S)


def _read_delay(batch: NotificationBatch, stretch: float | None = None) -> float:
    stretch = _stretch(batch) if stretch is None else stretch
    return stretch * min(max(_age_s(batch) / 2, settings.MESSAGING_POLL_READ_MIN_S),
                         settings.MESSAGING_POLL_READ_MAX_S)


def _until_next_month() -> float:
    local = clock.now().astimezone(ZoneInfo(settings.TENANTS_CALL_BUDGET_TZ))
    month = current_month()
    start = datetime(month.year + month.month // 12, month.month % 12 + 1, 1,
                     tzinfo=local.tzinfo)
    return max(60.0, (start - local).total_seconds())


def _next_at(batch: NotificationBatch, delay: float) -> datetime:
    due = clock.now() + timedelta(seconds=delay)
    return min(due, batch.poll_until) if batch.poll_until else due


def _again(batch: NotificationBatch, delay: float, note: str, *, enqueue: bool = False) -> None:
    with transaction.atomic():
        if _update(batch, lease_expires_at=None, next_attempt_at=_next_at(batch, delay),
                   last_error=note[:_MAX_ERROR]) and enqueue:
            batch_poll_enqueue_on_commit(batch_id=batch.pk, countdown=delay)


def _finish(batch: NotificationBatch, note: str) -> None:
    _update(batch, status=Status.DONE, lease_expires_at=None, next_attempt_at=None,
            last_error=note[:_MAX_ERROR])
    logger.info("batch %s done polling%s", batch.pk, f" ({note})" if note else "")


def _outcomes(result: SendResult, *, resent: bool = False,
              ) -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    """({(outcome, code): userids}, userids to send again after the per-minute window).
    `resent`: the batch is a same-day resend of a send whose answer was lost."""
    moves: dict[tuple[str, str], list[str]] = defaultdict(list)
    codes = {f.userid: f.code for f in result.forbidden}
    again = [u for u, c in codes.items() if c in PER_MINUTE_CODES]
    for userid, code in codes.items():
        if resent and code in IDENTICAL_CONTENT_CODES:
            moves[(Outcome.DUPLICATE, code)].append(userid)
        elif code not in PER_MINUTE_CODES:
            moves[(Outcome.FORBIDDEN, code)].append(userid)
    moves[(Outcome.FORBIDDEN, "")] += [u for u in result.forbidden_userids if u not in codes]
    moves[(Outcome.INVALID_USER, "")] += list(result.invalid_userids)
    moves[(Outcome.FAILED, "")] += list(result.failed_userids)
    moves[(Outcome.UNREAD, "")] += list(result.unread_userids)
    moves[(Outcome.READ, "")] += list(result.read_userids)
    return moves, again


def _record_result(batch: NotificationBatch, result: SendResult) -> int:
    moves, again = _outcomes(result, resent=batch.resends > 0)
    if (batch.status == Status.SENT and not again and not batch.dept_ids
            and not batch.to_all_user):
        # The usual poll: the moves, then the next poll, in two statements and no transaction.
        # Both hold only under this poll's claim, and moves can be made twice: a poll that dies
        # between them leaves its lease to run out, and the batch is polled again.
        counts = _recipients_move(batch, moves)
        if counts is None:
            _reread(batch)
            return 0
        _schedule_next(batch, waiting=sum(counts[o] for o in _WAITING) > 0,
                       unread=counts[Outcome.UNREAD] > 0)
    elif not _record_unusual(batch, result, moves, again):
        return 0
    logger.info("batch %s: %s read, %s unread, %s forbidden, %s to send again after the "
                "window", batch.pk, len(result.read_userids), len(result.unread_userids),
                len(result.forbidden), len(again))
    return len(again)


def _record_unusual(batch: NotificationBatch, result: SendResult,
                    moves: dict[tuple[str, str], list[str]], again: list[str]) -> bool:
    """An UNKNOWN batch's delivered recipients booked, per-minute drops sent again, rows for
    the members DingTalk expanded departments into: all in one transaction. False when this
    poll's claim was lost."""
    with transaction.atomic():
        if not NotificationBatch.objects.filter(_held(batch)).exists():
            _reread(batch)
            return False
        if batch.dept_ids or batch.to_all_user:  # DingTalk expanded them: rows for newcomers
            batch_recipients_add(batch=batch,
                                 userids=[*again, *(u for us in moves.values() for u in us)])
        counts = _recipients_move(batch, moves) or Counter()
        delivered = [*result.read_userids, *result.unread_userids]
        if batch.status == Status.UNKNOWN and delivered:
            ledger_book(tenant=batch.tenant, day=batch.ledger_day or ledger_day(at=batch.sent_at),
                        userids=delivered, content_digest=batch.content_digest)
        waiting = sum(counts[o] for o in _WAITING)
        if again:
            waiting -= _send_again(batch, Recipient.objects.filter(
                batch=batch, userid__in=again, outcome__in=_WAITING))
        _schedule_next(batch, waiting=waiting > 0, unread=counts[Outcome.UNREAD] > 0)
    return True


# One getsendresult's outcomes in one statement (a poll per batch of 100 made one UPDATE per
# outcome and two EXISTS after them): each recipient still waiting takes the first of its moves
# in _outcomes' order, and an unread one only read (read status never goes back); the batch's
# recipients are counted by outcome afterwards. (Listed both unread and read, a user is only
# given read: applied in order, unread then read end there too.) Nothing moves unless this poll
# still holds the batch; the last row (outcome NULL) says whether it does.
_MOVE_SQL = """
WITH held AS (
    SELECT id FROM {batch}
    WHERE id = %(batch)s AND status IN (%(polled)s, %(polled_unknown)s)
      AND claimed_at = %(claimed)s),
v AS (
    SELECT * FROM unnest(%(userids)s::text[], %(outcomes)s::text[], %(codes)s::text[],
                         %(ranks)s::int[]) AS v (userid, outcome, code, rank)),
pick AS (
    SELECT DISTINCT ON (r.id) r.id, v.outcome, v.code
    FROM {recipient} r JOIN v ON v.userid = r.userid
    WHERE r.batch_id IN (SELECT id FROM held)
      AND (r.outcome IN (%(sent)s, %(unknown)s)
           OR (v.outcome = %(read)s AND r.outcome = %(unread)s))
    ORDER BY r.id, v.rank),
moved AS (
    UPDATE {recipient} r SET outcome = pick.outcome, code = pick.code
    FROM pick
    WHERE r.id = pick.id AND (r.outcome IN (%(sent)s, %(unknown)s)
                              OR (pick.outcome = %(read)s AND r.outcome = %(unread)s))
    RETURNING r.id, r.outcome)
SELECT COALESCE(moved.outcome, r.outcome), count(*)
FROM {recipient} r LEFT JOIN moved ON moved.id = r.id
WHERE r.batch_id IN (SELECT id FROM held)
GROUP BY 1
UNION ALL
SELECT NULL, count(*) FROM held
"""


def _recipients_move(batch: NotificationBatch, moves: dict[tuple[str, str], list[str]],
                     ) -> Counter[str] | None:
    """Apply the moves to the batch's recipients; their count by outcome afterwards, or None
    when this poll no longer holds the batch (nothing moved)."""
    if connection.vendor != "postgresql":
        return _recipients_move_portable(batch, moves)
    read = set(moves.get((Outcome.READ, ""), ()))
    userids: list[str] = []
    outcomes: list[str] = []
    codes: list[str] = []
    ranks: list[int] = []
    for rank, ((outcome, code), users) in enumerate(moves.items()):
        for userid in users:
            if outcome != Outcome.UNREAD or userid not in read:
                userids.append(userid)
                outcomes.append(str(outcome))
                codes.append(code)
                ranks.append(rank)
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SQL.format(recipient=Recipient._meta.db_table,
                                        batch=NotificationBatch._meta.db_table), {
            "userids": userids, "outcomes": outcomes, "codes": codes, "ranks": ranks,
            "batch": batch.pk, "claimed": batch.claimed_at, "polled": Status.SENT.value,
            "polled_unknown": Status.UNKNOWN.value, "sent": Outcome.SENT.value,
            "unknown": Outcome.UNKNOWN.value, "read": Outcome.READ.value,
            "unread": Outcome.UNREAD.value})
        rows = cursor.fetchall()
    counts = Counter({outcome: n for outcome, n in rows if outcome is not None})
    return counts if any(n for outcome, n in rows if outcome is None) else None


def _recipients_move_portable(batch: NotificationBatch,
                              moves: dict[tuple[str, str], list[str]]) -> Counter[str] | None:
    """_MOVE_SQL in the ORM, for SQLite (the demo: no unnest, no DISTINCT ON, no UPDATE in a
    WITH clause): the moves in order, each only from a waiting outcome (read also from
    unread), so every recipient ends with the first of its moves, as there."""
    waiting = (Outcome.SENT, Outcome.UNKNOWN)
    with transaction.atomic():
        if not NotificationBatch.objects.filter(
                pk=batch.pk, status__in=(Status.SENT, Status.UNKNOWN),
                claimed_at=batch.claimed_at).exists():
            return None
        rows = Recipient.objects.filter(batch_id=batch.pk)
        for (outcome, code), users in moves.items():
            before = (*waiting, Outcome.UNREAD) if outcome == Outcome.READ else waiting
            for start in range(0, len(users), 500):
                rows.filter(userid__in=users[start:start + 500], outcome__in=before).update(
                    outcome=outcome, code=code)
        return Counter(dict(rows.values_list("outcome").annotate(n=Count("id"))))


def _send_again(batch: NotificationBatch, rows) -> int:
    """Recipients DingTalk dropped for a per-minute quota: a new batch, parked until after the
    window; the sweep's promotion gives it a turn in its tenant's window then. Returns how
    many."""
    userids = list(rows.order_by("id").values_list("userid", flat=True))
    if not userids:
        return 0
    Notification.objects.select_for_update().filter(pk=batch.notification_id).first()
    last = NotificationBatch.objects.filter(notification_id=batch.notification_id).aggregate(
        m=Max("seq"))["m"] or 0
    delay = 60.0 + settings.MESSAGING_LIMIT_MINUTE_MARGIN_S
    retry = NotificationBatch.objects.create(
        notification_id=batch.notification_id, tenant_id=batch.tenant_id, seq=last + 1,
        userids=userids, content_digest=batch.content_digest, ledger_day=batch.ledger_day,
        next_attempt_at=clock.now() + timedelta(seconds=delay))
    Recipient.objects.filter(pk__in=rows.values("pk")).update(
        batch=retry, outcome=Outcome.PENDING, code="")
    # The sweep promotes it once due (every 30 s): a countdown message a worker holds for a
    # minute would be lost with a restart anyway.
    return len(userids)


def _schedule_next(batch: NotificationBatch, *, waiting: bool, unread: bool) -> None:
    """The next poll: soon while a recipient waits, a read refresh while one has not read it,
    else none (DONE)."""
    fields: dict = {"status": Status.SENT, "lease_expires_at": None, "last_error": ""}
    stretch = _stretch(batch) if waiting or unread else 1.0
    delay = _progress_delay(batch, stretch) if waiting else 0.0
    if waiting:
        fields["next_attempt_at"] = _next_at(batch, delay)
    elif unread and stretch < 8:
        # Read refreshes are far apart: the sweep runs them from next_attempt_at. (Below a
        # tenth of the monthly budget they stop: outcomes matter more than read marks.)
        fields["next_attempt_at"] = _next_at(batch, _read_delay(batch, stretch))
    else:
        fields.update(status=Status.DONE, next_attempt_at=None)
    if _update(batch, **fields) and waiting:
        batch_poll_enqueue_on_commit(batch_id=batch.pk, countdown=delay)


def polls_sweep(*, limit: int = 500) -> list[int]:
    """Queue polls whose next_attempt_at is due (read refreshes, and what a dead worker or a
    lost message left); a poll whose lease ran out is due again. Returns the ids queued."""
    now = clock.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    ids = list(NotificationBatch.objects.filter(
        free, status__in=_POLLED, task_id__isnull=False, next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    for batch_id in ids:
        batch_poll_enqueue(batch_id=batch_id)
    if ids:
        logger.info("sweep queued %s batch poll(s)", len(ids))
    return ids
