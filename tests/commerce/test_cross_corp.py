"""Market pushes naming another corp than the order's: a refund or a renew-change open of
corp B never touches corp A's order (the ledger keys orders by suite and order id only)."""

import pytest

from commerce.models import Entitlement, MarketOrder, MarketRefund
from tenants.models import CallbackEvent
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db
Status = MarketOrder.Status
IGNORED = CallbackEvent.Status.IGNORED


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


@pytest.fixture
def side(pusher_for):
    suite = SuiteFactory()
    return TenantFactory(suite=suite), TenantFactory(suite=suite), pusher_for(suite)


def test_refund_of_another_corp_leaves_the_order(side):
    tenant, other, pusher = side
    pusher.order(tenant.corp_id, "o1")
    version = Entitlement.objects.get(tenant=tenant).version
    [refund] = pusher.refund(other.corp_id, "o1")
    [close] = pusher.service(other.corp_id, "o1", "close", closeType=3, refundId="r1")
    assert refund.status == close.status == IGNORED
    assert "another corp" in refund.last_error
    assert MarketOrder.objects.get(order_id="o1").status == Status.ACTIVE
    ent = Entitlement.objects.get(tenant=tenant)
    assert (ent.kind, ent.version) == ("paid", version)
    # Nothing of it shows among the other corp's refunds (its data export).
    assert not MarketRefund.objects.filter(corp_id=other.corp_id).exists()
    # The order's own corp refunds it.
    pusher.refund(tenant.corp_id, "o1")
    assert MarketOrder.objects.get(order_id="o1").status == Status.REFUNDED
    assert MarketRefund.objects.get(order_id="o1").corp_id == tenant.corp_id


def test_refund_of_another_corp_before_the_order_does_not_void_it(side):
    tenant, other, pusher = side
    pusher.refund(other.corp_id, "o9")
    pusher.order(tenant.corp_id, "o9")
    assert MarketOrder.objects.get(order_id="o9").status == Status.ACTIVE
    assert Entitlement.objects.get(tenant=tenant).kind == "paid"


def test_renew_change_open_of_another_corp_waits(side):
    tenant, other, pusher = side
    pusher.order(tenant.corp_id, "chg", order_type="RENEW_UPGRADE")
    [opened] = pusher.service(other.corp_id, "chg", "open", openType=3)
    assert opened.status == IGNORED
    order = MarketOrder.objects.get(order_id="chg")
    assert (order.status, order.change_opened_at) == (Status.PENDING_CHANGE, None)
    pusher.service(tenant.corp_id, "chg", "open", openType=3)
    assert MarketOrder.objects.get(order_id="chg").status == Status.ACTIVE
