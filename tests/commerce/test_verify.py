"""Verification of pushed orders with DingTalk (the emulator's GET /v1.0/appMarket/orders/{id}),
run through the inbox in this process: what DingTalk confirms grants, a mismatch or a closed
order is refused with its reason, DingTalk unreachable is retried by the inbox."""

import pytest
from django.conf import settings as django_settings

from commerce.models import Entitlement, MarketOrder
from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process
from tests.commerce.market import order_create, order_refund
from tests.tenants.conftest import unique_corp_id
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db
Status = MarketOrder.Status
ORDER = "v1.0/appMarket/orders/{orderId}"


@pytest.fixture
def side(make_suite, emulator, pusher_for):
    suite, _ = make_suite()
    corp = emulator.create_corp(users=2, corp_id=unique_corp_id())
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"])
    return tenant, pusher_for(suite)


def _push_remote(pusher, tenant, remote, **override):
    """The emulator's order pushed by hand (the emulator's own push is switched off)."""
    fields = {"item": remote["item_code"], "fee": remote["pay_fee"],
              "start_ms": remote["service_start_ms"], **override}
    return pusher.order(tenant.corp_id, str(remote["order_id"]), **fields)


def test_verify_confirmed_order_takes_dingtalks_values(side, emulator):
    tenant, pusher = side
    remote = order_create(emulator, tenant.suite.suite_key, tenant.corp_id, push=False,
                          pay_fee=12300)
    # The push says less than DingTalk: DingTalk's fee and period win.
    [event] = _push_remote(pusher, tenant, remote, fee=1, days=1)
    assert event.status == CallbackEvent.Status.DONE
    order = MarketOrder.objects.get(order_id=str(remote["order_id"]))
    assert (order.status, order.pay_fee) == (Status.ACTIVE, 12300)
    assert int(order.service_stop_at.timestamp() * 1000) == remote["service_stop_ms"]


def test_verify_mismatch_and_closed_orders_are_refused(side, emulator):
    tenant, pusher = side
    key = tenant.suite.suite_key
    remote = order_create(emulator, key, tenant.corp_id, push=False)
    [event] = _push_remote(pusher, tenant, remote, item="item_enterprise")
    assert event.status == CallbackEvent.Status.IGNORED and "item mismatch" in event.last_error
    assert MarketOrder.objects.get(order_id=str(remote["order_id"])).status == \
        Status.VERIFY_FAILED

    other = emulator.create_corp(users=1, corp_id=unique_corp_id())
    theirs = order_create(emulator, key, other["corp_id"], push=False)
    [event] = _push_remote(pusher, tenant, theirs)
    assert "corp mismatch" in event.last_error

    closed = order_create(emulator, key, tenant.corp_id, push=False)
    order_refund(emulator, key, closed["order_id"], push=False)
    [event] = _push_remote(pusher, tenant, closed)
    assert "not paid" in event.last_error
    assert not Entitlement.objects.filter(tenant=tenant).exclude(kind="none").exists()


def test_verify_paid_statuses_are_configurable(side, emulator, settings):
    tenant, pusher = side
    settings.COMMERCE_PAID_STATUSES = [0, 3]  # as if DingTalk's closed meant paid
    closed = order_create(emulator, tenant.suite.suite_key, tenant.corp_id, push=False)
    order_refund(emulator, tenant.suite.suite_key, closed["order_id"], push=False)
    _push_remote(pusher, tenant, closed)
    assert MarketOrder.objects.get(order_id=str(closed["order_id"])).status == Status.ACTIVE


def test_verify_dingtalk_unreachable_is_retried_by_the_inbox(side, emulator):
    tenant, pusher = side
    remote = order_create(emulator, tenant.suite.suite_key, tenant.corp_id, push=False)
    emulator.add_fault(ORDER, http_status=503, count=50)
    [event] = _push_remote(pusher, tenant, remote)
    assert event.status == CallbackEvent.Status.FAILED and event.next_attempt_at
    order = MarketOrder.objects.get(order_id=str(remote["order_id"]))
    assert order.status == Status.RECEIVED
    assert not Entitlement.objects.filter(tenant=tenant).exclude(kind="none").exists()

    emulator.clear_faults()
    CallbackEvent.objects.filter(pk=event.pk).update(next_attempt_at=event.received_at)
    assert callback_event_process(event_id=event.pk).status == CallbackEvent.Status.DONE
    order.refresh_from_db()
    assert order.status == Status.ACTIVE
    assert Entitlement.objects.get(tenant=tenant).kind == "paid"


def test_verify_beat_schedule_has_the_sweep_and_the_daily_reconciliation():
    schedule = {entry["task"]: entry["schedule"]
                for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["commerce.entitlements_sweep"] == 60.0
    daily = schedule["commerce.inapp_reconcile"]
    assert daily.minute == {43} and daily.hour == {20}  # off the hour
    from config.celery import app

    app.loader.import_default_modules()
    assert {"commerce.entitlements_sweep", "commerce.inapp_reconcile"} <= set(app.tasks)


def test_verify_refund_pushed_before_its_order_settles_it_refunded(side, emulator):
    # DingTalk's refund push overtook the order's: DingTalk now calls the order closed, and the
    # order is REFUNDED (final), not VERIFY_FAILED (which says a new push verifies again).
    tenant, pusher = side
    key = tenant.suite.suite_key
    remote = order_create(emulator, key, tenant.corp_id, push=False, in_app=True,
                          item_code="credits10")
    order_id = str(remote["order_id"])
    order_refund(emulator, key, order_id, push=False)
    pusher.refund(tenant.corp_id, order_id)
    [event] = _push_remote(pusher, tenant, remote, mainGoodsCode="FW_GOODS-1")
    assert event.status == CallbackEvent.Status.DONE, event.last_error
    order = MarketOrder.objects.get(order_id=order_id)
    assert (order.status, order.verify_error, order.dingtalk_status) == (Status.REFUNDED, "", 0)
    assert order.in_app_order.status == "refunded"
