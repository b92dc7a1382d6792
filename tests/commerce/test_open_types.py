"""A biz_type 37 market_service_open takes effect only for a renew-change order (RENEW_UPGRADE /
RENEW_DEGRADE, PROTOCOL-ISV 3.2, openType 3): an open of another order type is IGNORED with a
note and changes nothing, whether it comes after its order or before it."""

import pytest

from commerce.models import Entitlement, MarketOrder
from tenants.models import CallbackEvent
from tests.commerce.conftest import DAY_MS, now_ms
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db
Status = MarketOrder.Status


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


@pytest.fixture
def side(pusher_for):
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    return tenant, pusher_for(suite)


def test_open_of_a_buy_order_is_ignored_and_changes_nothing(side):
    tenant, pusher = side
    pusher.order(tenant.corp_id, "buy", item="item_basic", days=30)
    before = MarketOrder.objects.get(order_id="buy")
    version = Entitlement.objects.get(tenant=tenant).version
    start = now_ms()
    [event] = pusher.service(tenant.corp_id, "buy", "open", openType=3,
                             serviceStartTime=start, serviceStopTime=start + 4000 * DAY_MS)
    assert event.status == CallbackEvent.Status.IGNORED
    assert "BUY" in event.last_error and "renew-change" in event.last_error
    order = MarketOrder.objects.get(order_id="buy")
    assert (order.status, order.change_opened_at, order.service_stop_at, order.effective_at) == (
        Status.ACTIVE, None, before.service_stop_at, before.effective_at)
    assert Entitlement.objects.get(tenant=tenant).version == version


def test_open_before_its_order_is_dropped_when_the_order_is_no_renew_change(side):
    tenant, pusher = side
    start = now_ms()
    [opened] = pusher.service(tenant.corp_id, "o2", "open", openType=3,
                              serviceStartTime=start - 900 * DAY_MS,
                              serviceStopTime=start + 4000 * DAY_MS)
    assert opened.status == CallbackEvent.Status.DONE  # its order type is not known yet
    pusher.order(tenant.corp_id, "o2", order_type="UPGRADE", days=30, start_ms=start)
    order = MarketOrder.objects.get(order_id="o2")
    assert order.status == Status.ACTIVE and order.change_opened_at is None
    assert order.effective_at == order.paid_at
    assert int(order.service_stop_at.timestamp() * 1000) == start + 30 * DAY_MS
    assert "market_service_open" in order.note and "ignored" in order.note


def test_open_of_an_unknown_open_type_is_ignored(side):
    tenant, pusher = side
    pusher.order(tenant.corp_id, "chg", item="item_pro", order_type="RENEW_UPGRADE")
    [event] = pusher.service(tenant.corp_id, "chg", "open", openType=7)
    assert event.status == CallbackEvent.Status.IGNORED and "openType" in event.last_error
    assert MarketOrder.objects.get(order_id="chg").status == Status.PENDING_CHANGE
