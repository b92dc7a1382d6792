"""A renew-change whose 37 market_service_open never came: once its service start is
COMMERCE_RENEW_CHANGE_GRACE_S past, the sweep re-verifies it with DingTalk (GET
/v1.0/appMarket/orders/{id}) and applies it with a note; one DingTalk no longer backs is
refused; DingTalk unreachable leaves it for a later check."""

from __future__ import annotations

import pytest

from commerce.models import Entitlement, MarketOrder
from commerce.services.sweep import commerce_sweep
from tests.commerce.market import calls, order_create, order_refund
from tests.commerce.test_e2e import order_in, shop_tenant
from tests.conftest import advance_time

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = MarketOrder.Status
ORDER_API = "v1.0/appMarket/orders/{orderId}"
DAY = 86_400


@pytest.fixture
def pending(celery_worker, live_server, emulator, make_suite):
    """(suite, tenant, the pending renew-change) with the tenant on item_basic."""
    suite, tenant = shop_tenant(make_suite, live_server, emulator)
    buy = order_create(emulator, suite.suite_key, tenant.corp_id, item_code="item_basic")
    order_in(suite, str(buy["order_id"]), Status.ACTIVE)
    change = order_create(emulator, suite.suite_key, tenant.corp_id, item_code="item_pro",
                          order_type="RENEW_UPGRADE")  # its open is never sent
    order = order_in(suite, str(change["order_id"]), Status.PENDING_CHANGE)
    return suite, tenant, order


def _item(tenant) -> str:
    return Entitlement.objects.get(tenant=tenant).item_code


def test_renew_change_without_its_open_is_applied_after_the_grace(pending, emulator,
                                                                   settings):
    suite, tenant, order = pending
    assert settings.COMMERCE_RENEW_CHANGE_GRACE_S == DAY
    advance_time(emulator, DAY - 60)
    commerce_sweep()
    assert MarketOrder.objects.get(pk=order.pk).status == Status.PENDING_CHANGE
    asked = calls(emulator, ORDER_API)

    advance_time(emulator, 120)
    report = commerce_sweep()
    assert report.changes_applied == 1
    order.refresh_from_db()
    assert (order.status, order.change_opened_at) == (Status.ACTIVE, None)
    assert order.note == "applied without its market_service_open"
    assert order.effective_at == order.service_start_at
    assert calls(emulator, ORDER_API) == asked + 1  # re-verified before it was applied
    assert _item(tenant) == "item_pro"
    assert commerce_sweep().changes_applied == 0


def test_renew_change_dingtalk_no_longer_backs_is_refused(pending, emulator):
    suite, tenant, order = pending
    order_refund(emulator, suite.suite_key, order.order_id, push=False)  # the close was lost
    advance_time(emulator, DAY + 60)
    commerce_sweep()
    order.refresh_from_db()
    assert order.status == Status.VERIFY_FAILED and "not paid" in order.verify_error
    assert _item(tenant) == "item_basic"


def test_renew_change_check_waits_while_dingtalk_is_unreachable(pending, emulator):
    suite, tenant, order = pending
    advance_time(emulator, DAY + 60)
    emulator.add_fault(ORDER_API, http_status=503, count=50)
    assert commerce_sweep().changes_applied == 0
    order.refresh_from_db()
    assert order.status == Status.PENDING_CHANGE and order.change_check_at is not None
    emulator.clear_faults()
    asked = calls(emulator, ORDER_API)
    commerce_sweep()  # its next check is not due yet: DingTalk is not asked
    assert calls(emulator, ORDER_API) == asked
    advance_time(emulator, 3600)
    assert commerce_sweep().changes_applied == 1
    assert _item(tenant) == "item_pro"
