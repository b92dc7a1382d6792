"""Orders (and member opens) pushed before their corp authorized the suite are linked at
tenant_authorized; when that link never happened or failed, the sweep links them once the corp
has an authorized tenant of that suite (bounded per run)."""

import pytest

from commerce.models import Entitlement, MarketOrder, MemberOpen
from commerce.services.sweep import commerce_sweep
from commerce.services.tenants import commerce_tenants_to_link
from tenants.models import Tenant
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


def test_sweep_links_orders_that_arrived_before_their_tenant(pusher_for):
    suite = SuiteFactory()
    pusher = pusher_for(suite)
    pusher.order("dingearly", "early")
    pusher.tryout("dingearly", "union-e")
    pusher.order("dingnever", "orphan")  # its corp never authorized: stays unlinked
    # The tenant exists, but its tenant_authorized link never ran (or failed).
    tenant = TenantFactory(suite=suite, corp_id="dingearly")
    assert MarketOrder.objects.get(order_id="early").tenant_id is None

    report = commerce_sweep()
    assert report.orders_linked == 1 and report.failed == 0
    order = MarketOrder.objects.get(order_id="early")
    assert order.tenant_id == tenant.pk
    assert MemberOpen.objects.get(corp_id="dingearly").tenant_id == tenant.pk
    assert Entitlement.objects.get(tenant=tenant).order_id == order.pk
    assert MarketOrder.objects.get(order_id="orphan").tenant_id is None
    assert commerce_sweep().orders_linked == 0


def test_only_authorized_tenants_of_the_same_suite_are_linked(pusher_for):
    suite, other = SuiteFactory(), SuiteFactory()
    pusher = pusher_for(suite)
    pusher.order("dingstop", "o1")
    pusher.order("dingelse", "o2")
    TenantFactory(suite=suite, corp_id="dingstop", status=Tenant.Status.RELIEVED)
    TenantFactory(suite=other, corp_id="dingelse")
    assert commerce_tenants_to_link() == []
    commerce_sweep()
    assert not MarketOrder.objects.filter(tenant__isnull=False).exists()
