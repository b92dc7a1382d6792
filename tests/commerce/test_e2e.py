"""The ledger end to end over real HTTP: the emulator's market pushes -> dingsuite's callback
endpoint (live_server) -> inbox -> the session's Celery worker -> verification at the emulator
(GET /v1.0/appMarket/orders/{id}) -> ledger -> entitlement. Both push styles."""

from __future__ import annotations

import pytest

from commerce.models import Entitlement, MarketOrder, MarketRefund, MemberOpen
from commerce.services.entitlements import entitlements_sweep
from commerce.tasks import entitlements_sweep_task
from tenants.models import CallbackEvent, Tenant
from tenants.selectors.suites import suite_ticket_current
from tests.commerce.market import (
    order_create,
    order_free_switch,
    order_open,
    order_refund,
    tryout,
)
from tests.conftest import advance_time
from tests.tenants.conftest import unique_corp_id, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = MarketOrder.Status
DAY = 86_400


def _settled(suite) -> bool:
    busy = (CallbackEvent.Status.PENDING, CallbackEvent.Status.PROCESSING,
            CallbackEvent.Status.FAILED)
    return not CallbackEvent.objects.filter(suite=suite, status__in=busy).exists()


def shop_tenant(make_suite, live_server, emulator, push_style="sync_http"):
    """(suite, tenant): a suite whose pushes reach live_server, one corp authorized there."""
    suite, _ = make_suite(push_style=push_style, with_ticket=False,
                          callback_url=live_server.url + "/callbacks/{suite_key}/")
    ticket = emulator.push_ticket(suite.suite_key)
    wait_for(lambda: suite_ticket_current(suite=suite) == ticket, what="the pushed ticket")
    corp = emulator.create_corp(users=5, corp_id=unique_corp_id())
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = wait_for(lambda: Tenant.objects.filter(
        suite=suite, corp_id=corp["corp_id"], status=Tenant.Status.AUTHORIZED).first(),
        what="the tenant")
    return suite, tenant


def order_in(suite, order_id: str, *statuses: str) -> MarketOrder:
    return wait_for(lambda: MarketOrder.objects.filter(
        suite=suite, order_id=order_id, status__in=statuses).first(),
        what=f"order {order_id} to be {statuses}")


def entitlement(tenant) -> Entitlement:
    return Entitlement.objects.select_related("order").get(tenant=tenant)


@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_e2e_order_verified_granted_then_refunded_by_37_and_212(
        celery_worker, live_server, emulator, make_suite, push_style):
    suite, tenant = shop_tenant(make_suite, live_server, emulator, push_style)
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, item_code="item_pro",
                          pay_fee=9900, max_of_people=50)
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    assert order.verified_at is not None and order.dingtalk_status == 3
    assert (order.pay_fee, order.item_code, order.max_of_people) == (9900, "item_pro", 50)
    assert order.pushes and order.pushes[0]["kind"] == "market_order"
    ent = entitlement(tenant)
    assert (ent.kind, ent.expired, ent.item_code, ent.order_id) == (
        "paid", False, "item_pro", order.pk)
    assert int(ent.active_until.timestamp() * 1000) == remote["service_stop_ms"]

    order_refund(emulator, suite.suite_key, remote["order_id"], via="both")
    order_in(suite, order.order_id, Status.REFUNDED)
    refund = wait_for(lambda: MarketRefund.objects.filter(
        suite=suite, order_id=order.order_id, via_service_close=True,
        via_refund_event=True).first(), what="the refund from both pushes")
    assert refund.refund_fee == 9900 and refund.refund_id
    wait_for(lambda: _settled(suite), what="every event to finish")
    assert MarketRefund.objects.filter(suite=suite).count() == 1
    assert entitlement(tenant).kind == "none"
    assert not CallbackEvent.objects.filter(suite=suite, status=CallbackEvent.Status.DEAD)


@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_e2e_renew_change_applies_at_its_37_open(celery_worker, live_server, emulator,
                                                 make_suite, push_style):
    suite, tenant = shop_tenant(make_suite, live_server, emulator, push_style)
    buy = order_create(emulator, suite.suite_key, tenant.corp_id, item_code="item_basic")
    order_in(suite, str(buy["order_id"]), Status.ACTIVE)
    change = order_create(emulator, suite.suite_key, tenant.corp_id, item_code="item_pro",
                          order_type="RENEW_UPGRADE")
    order_in(suite, str(change["order_id"]), Status.PENDING_CHANGE)
    assert entitlement(tenant).item_code == "item_basic"
    order_open(emulator, suite.suite_key, change["order_id"])
    opened = order_in(suite, str(change["order_id"]), Status.ACTIVE)
    assert opened.change_opened_at is not None
    wait_for(lambda: entitlement(tenant).item_code == "item_pro", what="the new edition")


@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_e2e_trial_expires_by_the_clock_then_switches_to_free(celery_worker, live_server,
                                                              emulator, make_suite, push_style):
    suite, tenant = shop_tenant(make_suite, live_server, emulator, push_style)
    opened = tryout(emulator, suite.suite_key, tenant.corp_id, tryout_type="enterprise_tryout",
                    item_code="item_trial", days=15)
    trial = order_in(suite, str(opened["order"]["order_id"]), Status.ACTIVE)
    wait_for(lambda: MemberOpen.objects.filter(tenant=tenant).exists(), what="the member open")
    wait_for(lambda: entitlement(tenant).enterprise_tryout, what="the corp-wide open")
    ent = entitlement(tenant)
    assert (ent.kind, ent.expired, ent.item_code) == ("trial", False, "item_trial")

    advance_time(emulator, 16 * DAY)
    # The beat's task, run by the worker (its clock moved with ours).
    entitlements_sweep_task.delay()
    ent = wait_for(lambda: Entitlement.objects.filter(tenant=tenant, expired=True).first(),
                   what="the sweep to expire the trial")
    assert ent.kind == "trial"
    assert entitlements_sweep() == 0  # nothing due any more

    free = order_free_switch(emulator, suite.suite_key, trial.order_id, item_code="item_free")
    order_in(suite, str(free["order_id"]), Status.ACTIVE)
    ent = wait_for(lambda: Entitlement.objects.filter(tenant=tenant, kind="free",
                                                      expired=False).first(),
                   what="the free spec")
    assert ent.item_code == "item_free" and ent.active_until.year > 2100


def test_e2e_forged_pushes_are_refused(celery_worker, live_server, emulator, make_suite):
    """An order the emulator does not have, and another ISV's real order, pushed with this
    suite's keys: verified, refused, nothing granted."""
    from tests.commerce.test_e2e_support import push_row

    suite, tenant = shop_tenant(make_suite, live_server, emulator)
    other_suite, other_tenant = shop_tenant(make_suite, live_server, emulator)
    theirs = order_create(emulator, other_suite.suite_key, other_tenant.corp_id)
    for order_id in ("990000001", str(theirs["order_id"])):
        push_row(live_server, suite, 17, order_id, {
            "syncAction": "market_order", "orderId": order_id, "corpId": tenant.corp_id,
            "itemCode": "item_pro", "payFee": 1, "serviceStartTime": 1,
            "serviceStopTime": 4_102_444_800_000}, tenant.corp_id)
    unknown = order_in(suite, "990000001", Status.VERIFY_FAILED)
    assert "order.not.exist" in unknown.verify_error
    foreign = order_in(suite, str(theirs["order_id"]), Status.VERIFY_FAILED)
    assert "illegal.order.principle" in foreign.verify_error
    wait_for(lambda: _settled(suite), what="the forged events")
    assert not Entitlement.objects.filter(tenant=tenant).exclude(kind="none").exists()
    notes = CallbackEvent.objects.filter(suite=suite, kind="market_order")
    assert {e.status for e in notes} == {CallbackEvent.Status.IGNORED}
