"""The ledger through the real callback endpoint and inbox (in this process), with order
verification off: idempotency, refunds from both sources, renew-changes, member opens, expiry.
Verification with DingTalk (the emulator) is tested in test_verify.py and test_e2e.py."""

from datetime import UTC, datetime

import pytest

from commerce.models import Entitlement, MarketOrder, MarketRefund, MemberOpen
from commerce.selectors import tenant_entitlement
from commerce.services.entitlements import entitlements_sweep
from commerce.services.tenants import commerce_tenant_link
from commerce.signals import entitlement_changed
from core import clock
from tenants.models import CallbackEvent
from tests.commerce.conftest import DAY_MS, now_ms
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db
Status = MarketOrder.Status


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


@pytest.fixture
def changes():
    seen = []

    def receiver(sender, tenant, entitlement, **kwargs):
        seen.append((tenant.pk, entitlement.kind, entitlement.expired, entitlement.version))

    entitlement_changed.connect(receiver, dispatch_uid="test-commerce-changes")
    yield seen
    entitlement_changed.disconnect(dispatch_uid="test-commerce-changes")


@pytest.fixture
def side(pusher_for):
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    return tenant, pusher_for(suite)


def _entitlement(tenant):
    return Entitlement.objects.get(tenant=tenant)


def test_ledger_order_grants_and_a_redelivery_changes_nothing(side, changes,
                                                              django_capture_on_commit_callbacks):
    tenant, pusher = side
    with django_capture_on_commit_callbacks(execute=True):
        [event] = pusher.order(tenant.corp_id, "o1", fee=9900, days=365)
    assert event.status == CallbackEvent.Status.DONE
    order = MarketOrder.objects.get(suite=tenant.suite, order_id="o1")
    assert (order.status, order.tenant_id, order.pay_fee, order.order_type) == (
        Status.ACTIVE, tenant.pk, 9900, "BUY")
    ent = _entitlement(tenant)
    assert (ent.kind, ent.expired, ent.item_code, ent.max_of_people, ent.version) == (
        "paid", False, "item_pro", 50, 1)
    assert ent.active_until == order.service_stop_at
    assert changes == [(tenant.pk, "paid", False, 1)]

    # DingTalk pushes the same order again under a new event id: noted, nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        [again] = pusher.order(tenant.corp_id, "o1", fee=1, days=1, eventId="ev-again")
    assert again.status == CallbackEvent.Status.DONE
    order.refresh_from_db()
    assert order.pay_fee == 9900 and len(order.pushes) == 2
    assert MarketOrder.objects.filter(order_id="o1").count() == 1
    assert _entitlement(tenant).version == 1 and len(changes) == 1


def test_ledger_refund_as_both_37_close_and_212_is_one_refund(side, changes,
                                                              django_capture_on_commit_callbacks):
    tenant, pusher = side
    with django_capture_on_commit_callbacks(execute=True):
        pusher.order(tenant.corp_id, "o1")
        pusher.order(tenant.corp_id, "o2", item="item_basic", days=30)
        [closed] = pusher.service(tenant.corp_id, "o1", "close", closeType=3, refundId="r1")
        [refunded] = pusher.refund(tenant.corp_id, "o1", fee=9900)
    assert closed.status == refunded.status == CallbackEvent.Status.DONE
    refund = MarketRefund.objects.get(suite=tenant.suite, order_id="o1")
    assert (refund.refund_id, refund.refund_fee, refund.via_service_close,
            refund.via_refund_event) == ("r1", 9900, True, True)
    assert MarketOrder.objects.get(order_id="o1").status == Status.REFUNDED
    ent = _entitlement(tenant)
    assert ent.item_code == "item_basic" and ent.order.order_id == "o2"
    # Granted by o1 (v1), edition from o2 (v2), o1 voided (v3); the 212 changed nothing more.
    assert [version for *_, version in changes] == [1, 2, 3]


def test_ledger_refund_before_its_order_voids_the_order_when_it_comes(side):
    tenant, pusher = side
    pusher.refund(tenant.corp_id, "o9")
    pusher.order(tenant.corp_id, "o9")
    assert MarketOrder.objects.get(order_id="o9").status == Status.REFUNDED
    ent = _entitlement(tenant)
    assert ent.kind == "none" and ent.order is None


def test_ledger_renew_change_applies_only_at_its_37_open(side):
    tenant, pusher = side
    pusher.order(tenant.corp_id, "buy", item="item_basic")
    pusher.order(tenant.corp_id, "chg", item="item_pro", order_type="RENEW_UPGRADE")
    assert MarketOrder.objects.get(order_id="chg").status == Status.PENDING_CHANGE
    assert _entitlement(tenant).item_code == "item_basic"

    start = now_ms()
    pusher.service(tenant.corp_id, "chg", "open", openType=3, serviceStartTime=start,
                   serviceStopTime=start + 400 * DAY_MS, itemCode="item_pro")
    change = MarketOrder.objects.get(order_id="chg")
    assert change.status == Status.ACTIVE and change.change_opened_at is not None
    ent = _entitlement(tenant)
    assert ent.item_code == "item_pro" and ent.active_until == change.service_stop_at
    # The open pushed again changes nothing.
    version = ent.version
    pusher.service(tenant.corp_id, "chg", "open", openType=3, eventId="again")
    assert _entitlement(tenant).version == version


def test_ledger_37_open_before_its_17(side):
    tenant, pusher = side
    pusher.service(tenant.corp_id, "chg", "open", openType=3)
    pusher.order(tenant.corp_id, "chg", item="item_pro", order_type="RENEW_DEGRADE")
    assert MarketOrder.objects.get(order_id="chg").status == Status.ACTIVE
    assert _entitlement(tenant).item_code == "item_pro"


def test_ledger_http_market_buy_trial_then_expiry_by_the_clock(pusher_for, changes,
                                                               django_capture_on_commit_callbacks):
    suite = SuiteFactory(http_push=True)
    tenant = TenantFactory(suite=suite)
    pusher = pusher_for(suite)
    with django_capture_on_commit_callbacks(execute=True):
        [event] = pusher.http_market_buy(tenant.corp_id, "t1", fee=0, days=15,
                                         orderChargeType="TRYOUT")
    assert event.kind == "market_order" and event.status == CallbackEvent.Status.DONE
    assert MarketOrder.objects.get(order_id="t1").charge_type == "TRYOUT"
    assert tenant_entitlement(tenant).kind == "trial"

    clock.advance(16 * 86400)
    # Before the sweep runs, a service asking gets the truth already.
    assert tenant_entitlement(tenant).expired is True
    with django_capture_on_commit_callbacks(execute=True):
        assert entitlements_sweep() == 1
    ent = _entitlement(tenant)
    assert (ent.kind, ent.expired) == ("trial", True)
    assert changes[-1] == (tenant.pk, "trial", True, 2)
    assert entitlements_sweep() == 0  # nothing due any more


def test_ledger_trial_switches_to_free_spec(side):
    tenant, pusher = side
    start = now_ms()
    pusher.order(tenant.corp_id, "trial", fee=0, days=15, item="item_trial", start_ms=start)
    assert _entitlement(tenant).kind == "trial"
    clock.advance(15 * 86400)
    entitlements_sweep()
    assert _entitlement(tenant).expired
    pusher.order(tenant.corp_id, "free", fee=0, days=36500, item="item_free",
                 autoChangeFreeItem=True, start_ms=start + 15 * DAY_MS)
    ent = _entitlement(tenant)
    assert (ent.kind, ent.expired, ent.item_code) == ("free", False, "item_free")


def test_ledger_member_opens_once_per_opener_and_date(side):
    tenant, pusher = side
    pusher.tryout(tenant.corp_id, "union-a", "personal_tryout")
    pusher.tryout(tenant.corp_id, "union-a", "personal_tryout")
    assert MemberOpen.objects.filter(tenant=tenant).count() == 1
    assert not Entitlement.objects.filter(tenant=tenant, enterprise_tryout=True).exists()
    pusher.tryout(tenant.corp_id, "union-b", "enterprise_tryout")
    opened = MemberOpen.objects.get(buyer_unionid="union-b")
    # fromDate is Asia/Shanghai wall-clock text (COMMERCE_TRYOUT_TZ).
    assert opened.starts_at == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert _entitlement(tenant).enterprise_tryout is True


def test_ledger_order_before_authorization_joins_the_tenant(pusher_for):
    suite = SuiteFactory()
    pusher = pusher_for(suite)
    pusher.order("dingnotyet", "early")
    order = MarketOrder.objects.get(order_id="early")
    assert order.status == Status.ACTIVE and order.tenant is None
    tenant = TenantFactory(suite=suite, corp_id="dingnotyet")
    assert commerce_tenant_link(tenant=tenant) == 1
    assert _entitlement(tenant).order_id == order.pk


def test_ledger_market_events_of_an_unknown_order_or_action_are_ignored(side):
    tenant, pusher = side
    [event] = pusher.service(tenant.corp_id, "o1", "close", closeType=9)
    assert event.status == CallbackEvent.Status.IGNORED and "closeType" in event.last_error
    assert not MarketRefund.objects.exists()
