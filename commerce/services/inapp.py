"""In-app purchases (PROTOCOL-ISV 3.3, 3.4 step 8): dingsuite cannot fulfil an order itself, so
the product is told (order_paid -> the `order.paid` webhook), confirms through the API, and
only then does dingsuite call internal/order/finish, exactly once at a time (a lease); a failed
finish leaves the order CONFIRMED for the beat sweep. Consumptions are idempotent per the
product's request_id, which is also DingTalk's idempotency key."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from commerce.errors import (
    ConsumptionConflict,
    ConsumptionInProgress,
    ConsumptionRefused,
    OrderNotFound,
    OrderNotInApp,
    OrderRefunded,
)
from commerce.models import InAppConsumption, InAppOrder, MarketOrder
from core import clock
from dingtalk.errors import ApiError, DingTalkError, QuotaExceeded, TokenError, TransportError
from dingtalk.repeat import retryable_error
from tenants.models import Tenant
from tenants.services.clients import client_for

logger = logging.getLogger("commerce")

IStatus = InAppOrder.Status
CStatus = InAppConsumption.Status


def _lease() -> timedelta:
    return timedelta(seconds=settings.COMMERCE_CALL_LEASE_S)


def in_app_order_get(*, tenant: Tenant, order_id: str) -> InAppOrder:
    """The tenant's in-app order `order_id`; OrderNotFound / OrderNotInApp otherwise."""
    order = MarketOrder.objects.filter(tenant=tenant, order_id=order_id).first()
    if order is None:
        raise OrderNotFound("no order with this id for this tenant",
                            extra={"order_id": order_id[:64]})
    row = InAppOrder.objects.filter(order=order).select_related("order").first()
    if row is None:
        raise OrderNotInApp("not an in-app order: only in-app orders are fulfilled or consumed",
                            extra={"order_id": order_id})
    return row


def in_app_order_fulfil(*, tenant: Tenant, order_id: str) -> InAppOrder:
    """The product fulfilled the order: CONFIRMED, then finished at DingTalk (a repeat, or two
    at once, finish it once)."""
    row = in_app_order_get(tenant=tenant, order_id=order_id)
    if row.status == IStatus.REFUNDED:
        raise OrderRefunded("the order was refunded", extra={"order_id": order_id})
    now = clock.now()
    InAppOrder.objects.filter(pk=row.pk, status=IStatus.PAID).update(
        status=IStatus.CONFIRMED, confirmed_at=now, next_attempt_at=now)
    return in_app_order_finish(in_app_order=row)


def _refusal(exc: BaseException) -> tuple[str, str] | None:
    """(errcode, errmsg) when DingTalk refused the call for good (an API error a retry cannot
    fix); None for what a later attempt can fix: transport failures, throttling and quotas,
    DingTalk "busy", token trouble (the tenant's, not the order's), anything not DingTalk's."""
    if not isinstance(exc, ApiError) or retryable_error(exc) or isinstance(
            exc, TokenError | QuotaExceeded):
        return None
    code = exc.errcode if exc.errcode is not None else (exc.sub_code or type(exc).__name__)
    return str(code)[:64], (exc.errmsg or exc.sub_msg or "")[:500]


def in_app_order_finish(*, in_app_order: InAppOrder) -> InAppOrder:
    """Call internal/order/finish for a CONFIRMED order unless another caller holds it;
    FINISHED on success, FINISH_REFUSED when DingTalk refused it (recorded, not retried), else
    CONFIRMED with its next attempt (the sweep's)."""
    now = clock.now()
    claimed = InAppOrder.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now),
        pk=in_app_order.pk, status=IStatus.CONFIRMED,
    ).update(lease_expires_at=now + _lease(), finish_attempts=F("finish_attempts") + 1)
    row = InAppOrder.objects.select_related("order", "tenant").get(pk=in_app_order.pk)
    if not claimed:
        return row
    try:
        client_for(row.tenant).appstore.internal_order_finish(row.order.order_id)
    except Exception as exc:  # noqa: BLE001 (a refusal is recorded, the rest retried)
        refused = _refusal(exc)
        if refused is not None:
            InAppOrder.objects.filter(pk=row.pk, status=IStatus.CONFIRMED).update(
                status=IStatus.FINISH_REFUSED, lease_expires_at=None, next_attempt_at=None,
                finish_errcode=refused[0], finish_errmsg=refused[1],
                last_error=f"{type(exc).__name__}: {exc}"[:500])
            logger.error("DingTalk refused the finish of in-app order %r (errcode %s): "
                         "recorded, an operator retries it", row.order.order_id, refused[0])
        else:
            delay = min(settings.COMMERCE_FINISH_RETRY_BASE_S
                        * 2 ** max(row.finish_attempts - 1, 0),
                        settings.COMMERCE_FINISH_RETRY_MAX_S)
            InAppOrder.objects.filter(pk=row.pk, status=IStatus.CONFIRMED).update(
                lease_expires_at=None, last_error=f"{type(exc).__name__}: {exc}"[:500],
                next_attempt_at=clock.now() + timedelta(seconds=delay))
            logger.warning("finish of in-app order %r failed (%s); retry in %.0f s",
                           row.order.order_id, type(exc).__name__, delay)
    else:
        InAppOrder.objects.filter(pk=row.pk, status=IStatus.CONFIRMED).update(
            status=IStatus.FINISHED, finished_at=clock.now(), lease_expires_at=None,
            next_attempt_at=None, last_error="", finish_errcode="", finish_errmsg="")
        logger.info("in-app order %r finished at DingTalk", row.order.order_id)
    row.refresh_from_db()
    return row


def in_app_order_finish_retry(*, in_app_order: InAppOrder) -> InAppOrder:
    """An operator fixed what DingTalk refused: a FINISH_REFUSED order is CONFIRMED again and
    finished now (refused again, it is recorded again)."""
    now = clock.now()
    InAppOrder.objects.filter(pk=in_app_order.pk, status=IStatus.FINISH_REFUSED).update(
        status=IStatus.CONFIRMED, next_attempt_at=now, finish_errcode="", finish_errmsg="")
    return in_app_order_finish(in_app_order=in_app_order)


def in_app_finishes_due(*, limit: int = 200) -> int:
    """Retry the finishes whose next attempt is due (the beat sweep); how many were tried."""
    now = clock.now()
    # A relieved, stopped or suspended tenant's finish waits for it to come back.
    due = (InAppOrder.objects.filter(status=IStatus.CONFIRMED, next_attempt_at__lte=now,
                                     tenant__status=Tenant.Status.AUTHORIZED,
                                     tenant__suspended=False)
           .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
           .order_by("next_attempt_at")[:limit])
    tried = 0
    for row in due:
        in_app_order_finish(in_app_order=row)
        tried += 1
    return tried


def in_app_order_consume(*, tenant: Tenant, order_id: str, request_id: str, quantity: int,
                         userid: str) -> InAppConsumption:
    """Record one consumption at DingTalk, once per request_id (a repeat answers as the first
    did; the same request_id with other values is a conflict)."""
    row = in_app_order_get(tenant=tenant, order_id=order_id)
    # A refund after the finish leaves the fulfilment FINISHED; the order itself says it.
    if row.status == IStatus.REFUNDED or row.order.status == MarketOrder.Status.REFUNDED:
        used = InAppConsumption.objects.filter(in_app_order=row, request_id=request_id).first()
        if used is None or used.status != CStatus.DONE:
            raise OrderRefunded("the order was refunded", extra={"order_id": order_id})
    else:
        with transaction.atomic():
            used, _ = InAppConsumption.objects.get_or_create(
                in_app_order=row, request_id=request_id,
                defaults={"tenant": tenant, "quantity": quantity, "userid": userid})
    if (used.quantity, used.userid) != (quantity, userid):
        raise ConsumptionConflict("this request_id was used with another quantity or userid",
                                  extra={"request_id": request_id})
    if used.status == CStatus.FAILED:
        raise ConsumptionRefused(used.last_error, extra={"request_id": request_id})
    if used.status == CStatus.DONE:
        return used
    return _consume_call(used, row)


def _consume_call(used: InAppConsumption, row: InAppOrder) -> InAppConsumption:
    now = clock.now()
    claimed = InAppConsumption.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now),
        pk=used.pk, status=CStatus.PENDING).update(lease_expires_at=now + _lease())
    if not claimed:
        used.refresh_from_db()
        if used.status == CStatus.DONE:
            return used
        raise ConsumptionInProgress("this request is being sent to DingTalk; retry",
                                    extra={"request_id": used.request_id})
    try:
        client_for(row.tenant).appstore.internal_order_consume(
            biz_order_id=row.order.order_id, request_id=used.request_id,
            quantity=used.quantity, userid=used.userid)
    except DingTalkError as exc:
        if isinstance(exc, TransportError) or retryable_error(exc):
            # DingTalk may or may not have it: the same request_id repeats safely.
            InAppConsumption.objects.filter(pk=used.pk).update(
                lease_expires_at=None, last_error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        message = f"DingTalk refused the consumption: {exc}"[:500]
        InAppConsumption.objects.filter(pk=used.pk).update(
            status=CStatus.FAILED, lease_expires_at=None, last_error=message)
        raise ConsumptionRefused(message, extra={"request_id": used.request_id}) from exc
    except BaseException:
        InAppConsumption.objects.filter(pk=used.pk).update(lease_expires_at=None)
        raise
    InAppConsumption.objects.filter(pk=used.pk).update(
        status=CStatus.DONE, done_at=clock.now(), lease_expires_at=None, last_error="")
    used.refresh_from_db()
    return used
