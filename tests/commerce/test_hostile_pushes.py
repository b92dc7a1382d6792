"""Signed market pushes carrying hostile values, through the real callback endpoint and inbox:
each is recorded (what cannot be stored is left out), never a DEAD event that loses the order."""

from datetime import UTC, datetime

import pytest

from commerce.models import MarketOrder, MemberOpen
from tenants.models import CallbackEvent
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db
Status = MarketOrder.Status
DONE = CallbackEvent.Status.DONE


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


@pytest.fixture
def side(pusher_for):
    suite = SuiteFactory()
    return TenantFactory(suite=suite), pusher_for(suite)


@pytest.mark.parametrize(("extra", "fields"), [
    # Unicode digits pass str.isdigit() but int() refuses them.
    ({"payFee": "²"}, {"pay_fee": None}),
    ({"subQuantity": "٣"}, {"quantity": None}),
    # Beyond the columns: bigint fees, a smallint label.
    ({"payFee": "9" * 30, "discountFee": 2**70}, {"pay_fee": None, "discount_fee": None}),
    ({"orderLabel": 40000}, {"order_label": None}),
    # A fee is never negative: a negative one says nothing.
    ({"payFee": -5}, {"pay_fee": None}),
])
def test_hostile_numbers_are_left_out_and_the_order_kept(side, extra, fields):
    tenant, pusher = side
    [event] = pusher.order(tenant.corp_id, "o1", **extra)
    assert event.status == DONE, event.last_error
    order = MarketOrder.objects.get(suite=tenant.suite, order_id="o1")
    assert order.status == Status.ACTIVE and order.tenant_id == tenant.pk
    assert {name: getattr(order, name) for name in fields} == fields


def test_hostile_text_is_stored_readably(side):
    tenant, pusher = side
    deep = 1
    for _ in range(200):
        deep = [deep]
    [event] = pusher.order(tenant.corp_id, "o1", goodsName="a\ud800b\x00c",
                           itemName="\udfff" * 300, extendParam={"k\x00": ["x\x00", "\ud83d"]},
                           leadsFrom=float("inf"), discount=float("nan"), nested=deep)
    assert event.status == DONE, event.last_error
    order = MarketOrder.objects.get(suite=tenant.suite, order_id="o1")
    assert order.status == Status.ACTIVE
    assert order.goods_name == "a\ufffdb\ufffdc" and order.item_name == "\ufffd" * 200
    # The payload is kept for the record, as PostgreSQL's jsonb can hold it.
    assert order.data["extendParam"] == {"k\ufffd": ["x\ufffd", "\ufffd"]}
    assert (order.data["leadsFrom"], order.data["discount"]) == ("Infinity", "NaN")
    assert order.data["orderId"] == "o1" and order.data["nested"]


@pytest.mark.parametrize(("zone", "from_date"), [
    ("Asia/Shanghai", "0001-01-01 00:00:00"),  # UTC is year 0: stored, then unreadable
    ("America/Los_Angeles", "9999-12-31 23:59:59"),  # UTC is year 10000
])
def test_hostile_member_open_dates_are_left_out(side, settings, zone, from_date):
    tenant, pusher = side
    settings.COMMERCE_TRYOUT_TZ = zone
    [event] = pusher.tryout(tenant.corp_id, "union-a", from_date=from_date)
    assert event.status == DONE, event.last_error
    [opened] = MemberOpen.objects.filter(tenant=tenant)  # the row reads back
    assert (opened.from_date, opened.starts_at) == (from_date, None)
    assert opened.ends_at is not None  # endDate (2026-01-16) is an ordinary date


def test_member_open_dates_follow_the_configured_zone(side, settings):
    tenant, pusher = side
    settings.COMMERCE_TRYOUT_TZ = "UTC"
    pusher.tryout(tenant.corp_id, "union-a", from_date="2026-01-01 00:00:00")
    opened = MemberOpen.objects.get(tenant=tenant)
    assert opened.starts_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_order_id_longer_than_the_column_is_not_cut_into_another_order(side):
    tenant, pusher = side
    long_id = "1" * 65
    [event] = pusher.order(tenant.corp_id, long_id)
    [refund] = pusher.refund(tenant.corp_id, "1" * 70)
    assert event.status == refund.status == CallbackEvent.Status.IGNORED
    assert "at most 64" in event.last_error
    assert not MarketOrder.objects.exists()
