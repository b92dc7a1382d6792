"""commerce.services.derive: the entitlement as a pure function of the effective orders."""

from datetime import UTC, datetime, timedelta

from commerce.services.derive import OrderFacts, entitlement_derive, order_kind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def order(pk, start_days, stop_days, *, fee=1000, item="pro", **extra):
    return OrderFacts(pk=pk, item_code=item, item_name=item.title(), pay_fee=fee,
                      start=T0 + start_days * DAY, stop=T0 + stop_days * DAY,
                      effective_at=extra.pop("effective_at", T0 + start_days * DAY), **extra)


def test_derive_no_orders_is_none():
    facts = entitlement_derive([], now=T0)
    assert (facts.kind, facts.expired, facts.active_until) == ("none", False, None)


def test_derive_renewal_extends_active_until_and_edition_stays():
    buy = order(1, 0, 365, max_of_people=50, min_of_people=1)
    renew = order(2, 365, 730, effective_at=T0 + 300 * DAY, max_of_people=50)
    facts = entitlement_derive([buy, renew], now=T0 + 10 * DAY)
    assert facts.kind == "paid" and not facts.expired
    assert facts.order_pk == 1 and facts.current_until == T0 + 365 * DAY
    assert facts.active_until == T0 + 730 * DAY
    assert facts.next_change_at == T0 + 365 * DAY
    assert entitlement_derive([buy, renew], now=T0 + 400 * DAY).order_pk == 2


def test_derive_upgrade_takes_the_edition_from_the_latest_effective_order():
    buy = order(1, 0, 365, item="basic")
    upgrade = order(2, 100, 365, item="pro")
    assert entitlement_derive([buy, upgrade], now=T0 + 50 * DAY).item_code == "basic"
    assert entitlement_derive([buy, upgrade], now=T0 + 150 * DAY).item_code == "pro"


def test_derive_expired_keeps_the_last_edition():
    facts = entitlement_derive([order(1, 0, 30, quantity=10)], now=T0 + 31 * DAY)
    assert facts.expired and facts.kind == "paid" and facts.quantity == 10
    assert facts.next_change_at is None and facts.active_until == T0 + 30 * DAY


def test_derive_trial_then_free_spec():
    trial = order(1, 0, 15, fee=0, item="trial")
    free = order(2, 15, 15 + 36500, fee=0, item="free", auto_change_free_item=True)
    during = entitlement_derive([trial], now=T0 + DAY)
    assert during.kind == "trial" and during.next_change_at == T0 + 15 * DAY
    after = entitlement_derive([trial, free], now=T0 + 16 * DAY)
    assert (after.kind, after.item_code, after.expired) == ("free", "free", False)


def test_order_kind_reads_charge_type_fee_and_period():
    assert order_kind(order(1, 0, 15, fee=0, charge_type="FREE"), free_min_days=3650) == "free"
    assert order_kind(order(1, 0, 36500, fee=0, charge_type="TRYOUT"),
                      free_min_days=3650) == "trial"
    assert order_kind(order(1, 0, 36500, fee=0), free_min_days=3650) == "free"
    assert order_kind(order(1, 0, 30, fee=0), free_min_days=3650) == "trial"
    assert order_kind(order(1, 0, 30, fee=0, order_label=1), free_min_days=3650) == "paid"
    assert order_kind(order(1, 0, 30, fee=None), free_min_days=3650) == "paid"


def test_derive_order_not_started_yet_is_not_in_effect():
    facts = entitlement_derive([order(1, 10, 20)], now=T0)
    assert facts.expired and facts.next_change_at == T0 + 10 * DAY
