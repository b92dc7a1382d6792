"""The order ledger: pushed orders (biz_type 17, HTTP market_buy), renew-change opens (37 open)
and imports by id become one idempotent row per (suite, order id), verified with DingTalk before
they grant anything (PROTOCOL-ISV 3.4 steps 1-3).

A re-delivered push changes nothing: the inbox dedupes on the event id, the ledger on the order
id; only an order still unverified (RECEIVED, VERIFY_FAILED) is checked with DingTalk again.
DingTalk is asked outside any transaction; each outcome is one short transaction under the
order's row lock.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction

from commerce.errors import InvalidOrderId, OrderImportRefused
from commerce.models import InAppOrder, MarketOrder
from commerce.services.entitlements import entitlement_recompute
from commerce.services.locks import order_lock
from commerce.services.verify import (
    order_ask_dingtalk,
    order_corp_conflict,
    order_mismatch,
    refund_recorded,
)
from commerce.services.wire import order_fields, verified_fields
from commerce.signals import order_paid
from core import clock
from core.storable import storable_json
from tenants.models import Suite
from tenants.selectors.tenants import tenant_find

logger = logging.getLogger("commerce")

Status = MarketOrder.Status
UNSETTLED = (Status.RECEIVED, Status.VERIFY_FAILED)
_MAX_PUSHES = 20
# What an import by id accepts: DingTalk's order ids are digits (letters, - and _ for slack).
ORDER_ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"


def _note_push(order: MarketOrder, push: dict | None) -> None:
    if push and push not in order.pushes and len(order.pushes) < _MAX_PUSHES:
        order.pushes = [*order.pushes, push]


def _link_tenant(order: MarketOrder) -> None:
    if order.tenant_id is None and order.corp_id:
        tenant = tenant_find(suite=order.suite, corp_id=order.corp_id)
        order.tenant_id = tenant.pk if tenant else None


def _locked(suite: Suite, order_id: str, corp_id: str, source: str) -> MarketOrder:
    order, _ = MarketOrder.objects.select_for_update().get_or_create(
        suite=suite, order_id=order_id, defaults={"corp_id": corp_id, "source": source})
    order.suite = suite
    return order


def order_record(*, suite: Suite, corp_id: str, order_id: str, data: dict,
                 push: dict | None = None) -> MarketOrder:
    """Store a pushed order once; a repeat only notes the push (and refreshes the pushed fields
    while the order is unverified)."""
    with transaction.atomic():
        order = _locked(suite, order_id, corp_id, MarketOrder.Source.PUSH)
        unsettled = order.status in UNSETTLED
        order.filled = False
        pushed = order_fields(data)
        for name, value in pushed.items():
            if unsettled and (value not in (None, "") or isinstance(value, bool)):
                setattr(order, name, value)
            elif not unsettled and value not in (None, "", False) and getattr(
                    order, name) in (None, ""):
                # A settled order (a 37 open came first) only gains what it lacked.
                setattr(order, name, value)
                order.filled = True
        if not unsettled and order.change_opened_at is not None and _not_renew_change(order):
            _open_dropped(order, pushed)
        order.corp_id = order.corp_id or corp_id
        order.data = storable_json(data) if unsettled or not order.data else order.data
        _note_push(order, push)
        _link_tenant(order)
        order.save()
        if order.filled and order.status == Status.ACTIVE and order.tenant_id \
                and not order.in_app:
            entitlement_recompute(tenant=order.tenant)
    return order


def _open_dropped(order: MarketOrder, pushed: dict) -> None:
    """A 37 open settled the order before its 17, which now says it is no renew-change: the
    open is ignored after all (its times too, unless DingTalk's verified ones replaced them)."""
    order.change_opened_at = None
    if order.dingtalk_status is None:
        for name in ("service_start_at", "service_stop_at"):
            if pushed.get(name) is not None:
                setattr(order, name, pushed[name])
    if order.status == Status.ACTIVE:
        order.effective_at = order.paid_at or order.service_start_at or order.effective_at
    order.note = _open_ignored(order)[:200]
    order.filled = True  # the entitlement is recomputed
    logger.warning("order %r of suite %s: %s", order.order_id, order.suite.suite_key,
                   order.note)


def market_order_push(*, suite: Suite, corp_id: str, order_id: str, data: dict,
                      push: dict | None = None) -> MarketOrder:
    """A pushed order: recorded, then verified and settled unless it was settled before."""
    order = order_record(suite=suite, corp_id=corp_id, order_id=order_id, data=data, push=push)
    if order.status not in UNSETTLED:
        return order
    return order_verify(order=order)


def order_verify(*, order: MarketOrder) -> MarketOrder:
    """Check an unsettled order with DingTalk (unless COMMERCE_VERIFY_ORDERS is off) and settle
    it: granting, pending its 37 open, refunded, or refused with the reason."""
    remote, refusal = None, ""
    if settings.COMMERCE_VERIFY_ORDERS:
        remote, refusal = order_ask_dingtalk(suite=order.suite, order_id=order.order_id)
        if remote is not None:
            refusal = order_mismatch(order=order, remote=remote)
    return order_settle(order_pk=order.pk, remote=remote, refusal=refusal)


def _granting_status(order: MarketOrder) -> str:
    if refund_recorded(order):
        return Status.REFUNDED
    if order.is_renew_change and order.change_opened_at is None:
        return Status.PENDING_CHANGE
    return Status.ACTIVE


def order_settle(*, order_pk: int, remote: Any | None, refusal: str) -> MarketOrder:
    """Record the verification's outcome on an unsettled order (a settled one is left as is)."""
    now, paid = clock.now(), False
    suite_id, order_id = MarketOrder.objects.values_list("suite_id", "order_id").get(pk=order_pk)
    with transaction.atomic():
        order_lock(suite_id=suite_id, order_id=order_id)  # a refund committing now is seen
        order = MarketOrder.objects.select_for_update().select_related("suite").get(pk=order_pk)
        if order.status not in UNSETTLED:
            return order
        order.verified_at = now
        if refusal:
            order.status, order.verify_error = Status.VERIFY_FAILED, refusal
            order.save()
            logger.warning("order %r of suite %s refused: %s", order.order_id,
                           order.suite.suite_key, refusal)
            return order
        if remote is not None:
            for name, value in verified_fields(remote).items():
                setattr(order, name, value)
        order.verify_error = ""
        if order.change_opened_at is not None and _not_renew_change(order):
            # A 37 open came before its 17, which says the order is no renew-change.
            order.change_opened_at = None
            order.note = _open_ignored(order)[:200]
        order.status = _granting_status(order)
        if order.status == Status.ACTIVE:
            order.effective_at = (order.change_opened_at or order.paid_at
                                  or order.service_start_at or now)
        _link_tenant(order)
        order.save()
        if order.in_app:
            paid = _in_app_record(order)
        if paid and order.tenant_id:
            tenant = order.tenant
            transaction.on_commit(lambda: order_paid.send_robust(
                sender=MarketOrder, tenant=tenant, order=order))
        # In the same transaction: nobody sees a granting order before its entitlement.
        if order.tenant_id and not order.in_app:
            entitlement_recompute(tenant=order.tenant)
    logger.info("order %r of suite %s: %s", order.order_id, order.suite.suite_key, order.status)
    return order


def _in_app_record(order: MarketOrder) -> bool:
    """The fulfilment row of a verified in-app order; True when it is new and paid."""
    status = (InAppOrder.Status.REFUNDED if order.status == Status.REFUNDED
              else InAppOrder.Status.PAID)
    _, created = InAppOrder.objects.get_or_create(
        order=order, defaults={"tenant_id": order.tenant_id, "status": status})
    return created and status == InAppOrder.Status.PAID


def _not_renew_change(order: MarketOrder) -> bool:
    """The order's type is known and is not one a 37 open applies to (an imported order's
    type is unknown: DingTalk's order API does not say)."""
    return bool(order.order_type) and not order.is_renew_change


def _open_ignored(order: MarketOrder) -> str:
    return (f"market_service_open ignored: order {order.order_id} is {order.order_type}, not a "
            "renew-change (RENEW_UPGRADE / RENEW_DEGRADE)")


def market_service_open(*, suite: Suite, corp_id: str, order_id: str, data: dict,
                        push: dict | None = None) -> tuple[MarketOrder | None, str]:
    """biz_type 37 market_service_open: a renew-change takes effect now (it may come before
    its 17: the order then waits for verification with its open recorded). (order, "") or
    (None, why it was ignored): the order is another corp's, or no renew-change."""
    if order_corp_conflict(suite=suite, order_id=order_id, corp_id=corp_id):
        return None, f"order {order_id} belongs to another corp than the push names: left as it is"
    fields = order_fields(data)
    with transaction.atomic():
        order = _locked(suite, order_id, corp_id, MarketOrder.Source.PUSH)
        if _not_renew_change(order):
            # Its 17 (under this row lock) said what it is: the open's times must not apply.
            logger.warning("37 open of order %r of suite %s ignored: it is %s", order_id,
                           suite.suite_key, order.order_type)
            return None, _open_ignored(order)
        opened = order.change_opened_at is None
        if opened:
            order.change_opened_at = clock.now()
            for name in ("service_start_at", "service_stop_at"):
                if fields[name] is not None:
                    setattr(order, name, fields[name])
            for name in ("goods_code", "goods_name", "item_code", "item_name"):
                if not getattr(order, name) and fields[name]:
                    setattr(order, name, fields[name])
        if order.status == Status.PENDING_CHANGE:
            order.status, order.effective_at = Status.ACTIVE, order.change_opened_at
        order.corp_id = order.corp_id or corp_id
        _note_push(order, push)
        _link_tenant(order)
        order.save()
        if opened and order.tenant_id and order.status == Status.ACTIVE and not order.in_app:
            entitlement_recompute(tenant=order.tenant)
    if order.status in UNSETTLED:
        return order_verify(order=order), ""
    return order, ""


def market_order_import(*, suite: Suite, order_id: str,
                        source: str = MarketOrder.Source.IMPORT) -> MarketOrder:
    """An order DingTalk never pushed (or whose push was lost), read by its id: verified and
    settled like a push. A settled order is returned as it is. OrderImportRefused when
    DingTalk does not confirm it (InvalidOrderId, before anything is asked, for an id that
    cannot be one)."""
    if not isinstance(order_id, str) or not re.fullmatch(ORDER_ID_PATTERN, order_id):
        raise InvalidOrderId("not a DingTalk order id (digits, letters, - and _; at most 64)",
                             extra={"order_id": repr(order_id)[:80]})
    existing = MarketOrder.objects.filter(suite=suite, order_id=order_id).first()
    if existing is not None and existing.status not in UNSETTLED:
        return existing
    remote, refusal = order_ask_dingtalk(suite=suite, order_id=order_id)
    if remote is None:
        if existing is not None:
            order_settle(order_pk=existing.pk, remote=None, refusal=refusal)
        raise OrderImportRefused(refusal, extra={"order_id": order_id})
    with transaction.atomic():
        order = _locked(suite, order_id, remote.corp_id or "", source)
        order.corp_id = order.corp_id or (remote.corp_id or "")[:64]
        _link_tenant(order)
        order.save()
    refusal = order_mismatch(order=order, remote=remote)
    settled = order_settle(order_pk=order.pk, remote=remote, refusal=refusal)
    if refusal:
        raise OrderImportRefused(refusal, extra={"order_id": order_id})
    return settled
