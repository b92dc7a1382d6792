"""Work notifications: accept one (checked, stored once per idempotency key), cancel one, and
keep its counts per outcome. Planning, sending and polling happen in tasks afterwards.

Everything is checked before anything is written: the message by the dingtalk.messages
builders (or the template, for suites whose message_api is sendbytemplate), the audience, and
DingTalk's rules for to_all_user (internal apps only, 41028; three a day, 41045). A create
writes one row; planning is enqueued after commit by task name (the sweep re-queues it if the
broker lost the message).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from core import clock
from dingtalk import messages
from messaging.errors import (
    AudienceInvalid,
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    MessageApiMismatch,
    MessageInvalid,
    NotificationNotCancellable,
    ToAllUserDailyLimit,
    ToAllUserNotForSuites,
)
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.finishing import notification_finished_on_commit
from messaging.services.ledger import (
    content_digest_of,
    ledger_day,
    ledger_day_start,
    ledger_release,
)
from tenants.models import Suite, Tenant

logger = logging.getLogger("messaging.notifications")

PLAN_TASK = "messaging.notification_plan"
# dingsuite expands and batches the audience itself, so DingTalk's per-call list limits
# (100 userids, 20 dept ids) do not apply to a notification; these bound one request.
MAX_AUDIENCE_USERIDS = 100_000
MAX_AUDIENCE_DEPT_IDS = 500
_MAX_USERID = 64  # Recipient.userid
_MAX_KEY = 128  # Notification.idempotency_key

Status = Notification.Status
BatchStatus = NotificationBatch.Status


def notification_plan_enqueue(*, notification_id: int, countdown: float | None = None) -> None:
    """Publish the planning task now; a message the broker does not take is left to the sweep."""
    try:
        current_app.send_task(PLAN_TASK, args=[notification_id], countdown=countdown)
    except Exception as exc:  # the broker is down or hung: the sweep publishes it later
        logger.warning("notification %s not enqueued (%s); the sweep will queue it",
                       notification_id, type(exc).__name__)


def notification_plan_enqueue_on_commit(*, notification_id: int,
                                        countdown: float | None = None) -> None:
    transaction.on_commit(lambda: notification_plan_enqueue(
        notification_id=notification_id, countdown=countdown))


def _sends_by_template(tenant: Tenant) -> bool:
    return (tenant.kind == Tenant.Kind.SUITE
            and tenant.suite.message_api == Suite.MessageApi.SEND_BY_TEMPLATE)


def _content(tenant: Tenant, msg: Any, template_id: str | None,
             template_data: Any) -> tuple[messages.Message | None, str, dict | None]:
    """(checked message, template id, template data): exactly one of message or template."""
    if _sends_by_template(tenant):
        if msg is not None:
            raise MessageApiMismatch(
                "this suite sends work notifications by template (message_api sendbytemplate: "
                "DingTalk answers its asyncsend_v2 calls 60011); give template_id and "
                "template_data", extra={"suite_key": tenant.suite.suite_key})
        if not isinstance(template_id, str) or not template_id.strip():
            raise MessageInvalid("template_id is required")
        if not isinstance(template_data, Mapping):
            raise MessageInvalid("template_data must be an object")
        try:
            data = _canonical_json_value(dict(template_data))
        except (TypeError, ValueError):
            raise MessageInvalid("template_data must be JSON") from None
        return None, template_id.strip(), data
    if template_id is not None or template_data is not None:
        raise MessageApiMismatch("templates are for suites whose message_api is sendbytemplate;"
                                 " give msg")
    if msg is None:
        raise MessageInvalid("msg is required")
    try:
        return messages.from_dict(msg), "", None
    except messages.MessageError as exc:
        raise MessageInvalid(str(exc)) from None


def _canonical_json_value(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _audience(userids: Iterable[str], dept_ids: Iterable[int], to_all_user: bool,
              to_all_user_native: bool, message: messages.Message | None,
              tenant: Tenant, single_batch: bool = False) -> tuple[list[str], list[int]]:
    # One batch is one DingTalk call: its own list limits (100 userids, 20 dept ids) apply.
    limits = (messages.RecipientLimits() if single_batch
              else messages.RecipientLimits(MAX_AUDIENCE_USERIDS, MAX_AUDIENCE_DEPT_IDS))
    try:
        users = list(dict.fromkeys(u.strip() for u in messages.userid_list(userids)))
        depts = list(dict.fromkeys(messages.dept_id_list(dept_ids)))
        messages.recipients(users, depts, bool(to_all_user), msg=message, limits=limits)
    except messages.MessageError as exc:
        raise AudienceInvalid(str(exc)) from None
    if any(len(u) > _MAX_USERID for u in users) or any(d < 1 for d in depts):
        raise AudienceInvalid(f"userids are at most {_MAX_USERID} characters and dept ids "
                              "positive")
    if to_all_user_native and not to_all_user:
        raise AudienceInvalid("to_all_user_native only goes with to_all_user")
    if to_all_user and tenant.kind != Tenant.Kind.INTERNAL_APP:
        raise ToAllUserNotForSuites(
            "to_all_user is for internal apps only: DingTalk refuses third-party apps "
            "(errcode 41028); name the userids or departments instead",
            extra={"corp_id": tenant.corp_id})
    return users, depts


def _request_digest(**request: Any) -> str:
    canonical = messages.compact_json(_canonical_json_value(request))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _first_or_conflict(existing: Notification, digest: str) -> Notification:
    if existing.request_digest != digest:
        raise IdempotencyConflict(
            "this idempotency key was used for another request",
            extra={"idempotency_key": existing.idempotency_key,
                   "notification_id": existing.pk})
    existing.replayed = True  # the API answers a replay 200, a new notification 201
    return existing


def _check_to_all_user_quota(tenant: Tenant) -> None:
    """At most MESSAGING_TO_ALL_USER_PER_DAY full-company notifications per corp and day,
    counted over its internal apps (their rows are locked until the create commits)."""
    apps = Tenant.objects.select_for_update().filter(
        kind=Tenant.Kind.INTERNAL_APP, corp_id=tenant.corp_id).order_by("pk")
    list(apps.values_list("pk", flat=True))
    since = ledger_day_start(day=ledger_day())
    sent = Notification.objects.filter(
        tenant__in=apps.values("pk"), to_all_user=True, created_at__gte=since,
    ).exclude(status=Status.CANCELLED).count()
    limit = settings.MESSAGING_TO_ALL_USER_PER_DAY
    if sent >= limit:
        raise ToAllUserDailyLimit(
            f"a corp may send {limit} full-company notifications a day (DingTalk errcode "
            "41045); name the userids or departments instead",
            extra={"corp_id": tenant.corp_id, "limit": limit})


def notification_create(
    *,
    tenant: Tenant,
    userids: Iterable[str] = (),
    dept_ids: Iterable[int] = (),
    to_all_user: bool = False,
    msg: messages.Message | Mapping[str, Any] | str | None = None,
    template_id: str | None = None,
    template_data: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    defer_held: bool = False,
    to_all_user_native: bool = False,
    single_batch: bool = False,
) -> Notification:
    """Accept a work notification; a repeated idempotency key returns the first one (the same
    request) or raises IdempotencyConflict (another request). Planning follows in a task.
    `single_batch`: one DingTalk task with the audience as given (the seed's asyncsend_v2)."""
    message, template, data = _content(tenant, msg, template_id, template_data)
    users, depts = _audience(userids, dept_ids, to_all_user, to_all_user_native, message,
                             tenant, single_batch)
    if single_batch and defer_held:
        raise AudienceInvalid("a single-batch send cannot defer held recipients to a later day")
    msg_dict = message.to_dict() if message is not None else None
    if idempotency_key is not None and (not isinstance(idempotency_key, str)
                                        or not 0 < len(idempotency_key) <= _MAX_KEY):
        raise IdempotencyKeyInvalid(f"the idempotency key is 1-{_MAX_KEY} characters")
    digest = _request_digest(
        userids=sorted(users), dept_ids=sorted(depts), to_all_user=bool(to_all_user),
        to_all_user_native=bool(to_all_user_native), msg=msg_dict, template_id=template,
        template_data=data, defer_held=bool(defer_held),
        # Only when set: the digests of notifications stored before the flag stay the same.
        **({"single_batch": True} if single_batch else {}))
    if idempotency_key is not None:
        existing = Notification.objects.filter(tenant=tenant,
                                               idempotency_key=idempotency_key).first()
        if existing is not None:
            return _first_or_conflict(existing, digest)
    try:
        with transaction.atomic():
            if to_all_user:
                _check_to_all_user_quota(tenant)
            notification = Notification.objects.create(
                tenant=tenant, idempotency_key=idempotency_key or "", request_digest=digest,
                userids=users, dept_ids=depts, to_all_user=bool(to_all_user),
                to_all_user_native=bool(to_all_user_native), msg=msg_dict,
                template_id=template, template_data=data,
                content_digest=content_digest_of(msg=msg_dict, template_id=template,
                                                 template_data=data),
                defer_held=bool(defer_held), single_batch=bool(single_batch),
                next_attempt_at=clock.now())
            notification_plan_enqueue_on_commit(notification_id=notification.pk)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # Another request with the same key committed first.
        existing = Notification.objects.get(tenant=tenant, idempotency_key=idempotency_key)
        return _first_or_conflict(existing, digest)
    logger.info("notification %s accepted for tenant %s", notification.pk, tenant.pk)
    return notification


_CANCELLABLE = (Status.ACCEPTED, Status.PLANNING, Status.SENDING, Status.HELD)
_UNSENT_BATCH = (BatchStatus.PENDING, BatchStatus.HELD)


def notification_cancel(*, notification: Notification) -> Notification:
    """Cancel what has not been handed to DingTalk yet: pending and held batches, deferred
    recipients. Nothing sent yet: the notification is CANCELLED. Some batches already sent:
    they are followed to their outcomes and the notification finishes on them.
    A planning run in progress loses its claim (its write finds the status changed)."""
    with transaction.atomic():
        locked = Notification.objects.select_for_update().filter(pk=notification.pk).first()
        if locked is None or locked.status not in _CANCELLABLE:
            raise NotificationNotCancellable(
                "the notification is finished", extra={"status": getattr(locked, "status",
                                                                         None)})
        batches = NotificationBatch.objects.filter(notification=locked)
        cancelled = list(batches.filter(status__in=_UNSENT_BATCH)
                         .values_list("pk", "userids", "ledger_day"))
        batches.filter(pk__in=[pk for pk, _, _ in cancelled]).update(
            status=BatchStatus.CANCELLED, next_attempt_at=None, lease_expires_at=None)
        Recipient.objects.filter(notification=locked, outcome=Recipient.Outcome.PENDING).filter(
            Q(batch__isnull=True) | Q(batch_id__in=[pk for pk, _, _ in cancelled]),
        ).update(outcome=Recipient.Outcome.CANCELLED)
        for _, users, day in cancelled:
            # Each batch was booked on its own day (a deferred one on a later day).
            booked_on = day or (ledger_day(at=locked.planned_at) if locked.planned_at else None)
            if booked_on is not None:
                ledger_release(tenant=locked.tenant, day=booked_on, userids=users,
                               content_digest=locked.content_digest)
        sent_any = batches.exclude(status__in=(*_UNSENT_BATCH, BatchStatus.CANCELLED)).exists()
        deferred = locked.status == Status.SENDING and locked.next_attempt_at is not None
        if sent_any and not cancelled and not deferred:
            raise NotificationNotCancellable("everything was already handed to DingTalk",
                                             extra={"status": locked.status})
        if not sent_any:
            locked.status = Status.CANCELLED
            locked.completed_at = clock.now()
            notification_finished_on_commit(notification_id=locked.pk)
        locked.next_attempt_at = None
        locked.lease_expires_at = None
        locked.save(update_fields=["status", "completed_at", "next_attempt_at",
                                   "lease_expires_at"])
        notification_counts_refresh(notification=locked)
    logger.info("notification %s cancelled (%s batches)", locked.pk, len(cancelled))
    return locked


def notification_counts_refresh(*, notification: Notification) -> dict[str, int]:
    """Recount its recipients per outcome onto the row (a recount, so concurrent writers
    never make it drift); returns the counts."""
    rows = (Recipient.objects.filter(notification_id=notification.pk)
            .values_list("outcome").annotate(n=Count("id")))
    counts = {outcome: n for outcome, n in rows}
    total = sum(counts.values())
    Notification.objects.filter(pk=notification.pk).update(counts=counts, recipient_count=total)
    notification.counts, notification.recipient_count = counts, total
    return counts
