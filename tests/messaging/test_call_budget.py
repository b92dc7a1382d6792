"""The monthly call budget (tenants/services/call_budget.py, PROTOCOL 10's 90020) as messaging
lives with it: non-basic calls counted per tenant and month, refused past the budget before
they leave, 90020 from DingTalk recorded and never retried, polling thinner as it runs down."""

from datetime import timedelta

import pytest

from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.polling import batch_poll
from messaging.services.sending import batch_send
from tenants.models import MonthlyCallCount, Tenant
from tenants.services import call_budget
from tenants.services.call_budget import call_budget_left, current_month
from tenants.services.clients import client_for
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, text

pytestmark = pytest.mark.django_db

BatchStatus = NotificationBatch.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"


def _sends(emulator) -> int:
    return emulator.counters()["calls"].get(_SEND, 0)


def _send(n: Notification) -> NotificationBatch:
    (batch,) = NotificationBatch.objects.filter(notification=n)
    return batch_send(batch_id=batch.pk)


def _budget(tenant: Tenant, calls: int) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(monthly_call_budget=calls)
    tenant.refresh_from_db()
    call_budget._budgets.forget(str(tenant.pk))  # this process's 30-second cache


def test_non_basic_calls_are_counted_and_refused_past_the_budget(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    _budget(tenant, 1)
    first = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("one"))
    second = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("two"))
    assert _send(first).status == BatchStatus.SENT
    refused = _send(second)
    assert refused.status == BatchStatus.FAILED and "monthly call budget" in refused.last_error
    assert set(Recipient.objects.filter(batch=refused).values_list("code", flat=True)) == {
        "call_budget"}
    assert _sends(emulator) == 1  # the refused send never left
    row = MonthlyCallCount.objects.get(tenant=tenant, month=current_month())
    assert row.calls == 1 and call_budget_left(tenant=tenant) == 0.0
    client_for(tenant).departments.list_ids(1)  # contacts are basic: never counted
    assert MonthlyCallCount.objects.get(pk=row.pk).calls == 1


def test_dingtalks_90020_is_recorded_and_never_retried(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    emulator.add_fault(_SEND, errcode=90020, errmsg="api count limit for org", count=1)
    first = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("one"))
    batch = _send(first)
    assert batch.status == BatchStatus.FAILED and "90020" in batch.last_error
    row = MonthlyCallCount.objects.get(tenant=tenant, month=current_month())
    assert row.exhausted_at is not None
    # No further call this month, though the fault is gone: DingTalk's count is spent.
    second = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("two"))
    assert _send(second).status == BatchStatus.FAILED
    assert _sends(emulator) == 1


def test_the_budget_comes_back_with_the_month(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    _budget(tenant, 1)
    create_and_plan(tenant, userids=corp["userids"][:1], msg=text("a"))
    assert _send(Notification.objects.filter(tenant=tenant).first()).status == BatchStatus.SENT
    assert call_budget_left(tenant=tenant) == 0.0
    advance_time(emulator, 32 * 86_400)
    assert call_budget_left(tenant=tenant) == 1.0
    later = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("b"))
    assert _send(later).status == BatchStatus.SENT


def test_polling_stops_read_refreshes_when_the_budget_runs_low(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    _budget(tenant, 100)
    n = create_and_plan(tenant, userids=corp["userids"][:2], msg=text())
    batch = _send(n)
    MonthlyCallCount.objects.filter(tenant=tenant).update(calls=95)  # 5% left
    advance_time(emulator, 2)
    polled = batch_poll(batch_id=batch.pk)
    assert Recipient.objects.filter(batch=batch, outcome=Recipient.Outcome.UNREAD).count() == len(
        batch.userids) > 0
    assert polled.status == BatchStatus.DONE  # no read refreshes below a tenth


def test_polling_backs_off_further_as_the_budget_runs_down(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    _budget(tenant, 100)
    n = create_and_plan(tenant, userids=corp["userids"][:2], msg=text())
    batch = _send(n)
    MonthlyCallCount.objects.filter(tenant=tenant).update(calls=70)  # 30% left: x2
    advance_time(emulator, 2)
    polled = batch_poll(batch_id=batch.pk)
    assert polled.status == BatchStatus.SENT
    gap = polled.next_attempt_at - batch.sent_at
    # The first read refresh: twice the usual minute at least.
    assert gap >= timedelta(seconds=120)
