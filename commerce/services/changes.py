"""Renew-changes whose 37 market_service_open never came (PROTOCOL-ISV 3.4 step 3 relies on a
push that can be lost): once the service start is COMMERCE_RENEW_CHANGE_GRACE_S past, the sweep
asks DingTalk about the order again and applies it if DingTalk still says paid."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from commerce.models import MarketOrder
from commerce.services.entitlements import entitlement_recompute
from commerce.services.locks import order_lock
from commerce.services.verify import order_ask_dingtalk, order_mismatch
from commerce.services.wire import verified_fields
from core import clock
from core.errors import ServiceError
from dingtalk.errors import DingTalkError

logger = logging.getLogger("commerce")

Status = MarketOrder.Status
APPLIED_NOTE = "applied without its market_service_open"
# DingTalk unreachable while checking: ask again this much later (seconds).
RECHECK_S = 900


def _cut():
    return clock.now() - timedelta(seconds=settings.COMMERCE_RENEW_CHANGE_GRACE_S)


def renew_changes_overdue(*, limit: int = 50) -> list[int]:
    """Pending renew-changes whose service start (or, lacking one, arrival) is past the grace
    without their open, and whose next check is due."""
    cut, now = _cut(), clock.now()
    return list(
        MarketOrder.objects.filter(status=Status.PENDING_CHANGE, change_opened_at__isnull=True)
        .filter(Q(service_start_at__lte=cut)
                | Q(service_start_at__isnull=True, created_at__lte=cut))
        .filter(Q(change_check_at__isnull=True) | Q(change_check_at__lte=now))
        .order_by("service_start_at", "id").values_list("pk", flat=True)[:limit])


def renew_change_apply_overdue(*, order_pk: int) -> MarketOrder:
    """Ask DingTalk about one overdue renew-change (outside any transaction) and settle it:
    ACTIVE with a note when still paid, VERIFY_FAILED when DingTalk no longer backs it, left
    pending with its next check when DingTalk cannot be asked now."""
    order = MarketOrder.objects.select_related("suite").get(pk=order_pk)
    remote, refusal = None, ""
    if settings.COMMERCE_VERIFY_ORDERS:
        try:
            remote, refusal = order_ask_dingtalk(suite=order.suite, order_id=order.order_id)
        except (DingTalkError, ServiceError) as exc:
            MarketOrder.objects.filter(pk=order_pk, status=Status.PENDING_CHANGE).update(
                change_check_at=clock.now() + timedelta(seconds=RECHECK_S))
            logger.warning("renew-change %r of suite %s not checked (%s): again in %d s",
                           order.order_id, order.suite.suite_key, type(exc).__name__,
                           RECHECK_S)
            return order
        if remote is not None:
            refusal = order_mismatch(order=order, remote=remote)
    return _settle(order_pk=order_pk, remote=remote, refusal=refusal)


def _settle(*, order_pk: int, remote: Any | None, refusal: str) -> MarketOrder:
    suite_id, order_id = MarketOrder.objects.values_list("suite_id", "order_id").get(pk=order_pk)
    with transaction.atomic():
        order_lock(suite_id=suite_id, order_id=order_id)  # a refund committing now is seen
        order = MarketOrder.objects.select_for_update().select_related("suite").get(pk=order_pk)
        if order.status != Status.PENDING_CHANGE or order.change_opened_at is not None:
            return order  # its open, or a refund, came meanwhile
        order.change_check_at = None
        if refusal:
            order.status = Status.VERIFY_FAILED
            order.verify_error = f"renew-change without its open, checked again: {refusal}"[:500]
            order.verified_at = clock.now()
            order.save()
            logger.warning("renew-change %r of suite %s refused: %s", order_id,
                           order.suite.suite_key, refusal)
            return order
        if remote is not None:
            for name, value in verified_fields(remote).items():
                setattr(order, name, value)
            order.verified_at = clock.now()
        start = order.service_start_at
        if start is not None and start > _cut():
            order.save()  # DingTalk moved its start: it waits for its open (or the new grace)
            return order
        order.status, order.note = Status.ACTIVE, APPLIED_NOTE
        order.effective_at = start or clock.now()
        order.save()
        logger.warning("renew-change %r of suite %s %s", order_id, order.suite.suite_key,
                       APPLIED_NOTE)
        if order.tenant_id and not order.in_app:
            entitlement_recompute(tenant=order.tenant)
    return order
