"""The ledger: DingTalk's per-user daily cap and identical-content rule applied at planning."""

import pytest
from django.test import TestCase

from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services.ledger import (
    HELD_DAILY_CAP,
    HELD_IDENTICAL_CONTENT,
    daily_cap_for,
    ledger_admit,
    ledger_book,
    ledger_day,
)
from messaging.services.planning import notification_plan
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, outcomes, text
from tests.tenants.conftest import authorized_tenant

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome


def test_ledger_daily_cap_by_kind(emulator, make_app, make_suite):
    app, _, _ = make_app(users=1)
    suite_tenant, _ = authorized_tenant(emulator, make_suite)
    # PROTOCOL 3.1: 500 internal; ISV 100 (UNCERTAIN 50 vs 100: 100 chosen).
    assert (daily_cap_for(tenant=app), daily_cap_for(tenant=suite_tenant)) == (500, 100)


def test_ledger_holds_back_at_the_daily_cap_until_the_next_day(emulator, make_app, settings):
    settings.MESSAGING_DAILY_CAP_INTERNAL = 2
    tenant, corp, _ = make_app(users=3)
    alice, bob = corp["userids"][:2]
    create_and_plan(tenant, userids=[alice], msg=text("one"))
    create_and_plan(tenant, userids=[alice, bob], msg=text("two"))
    third = create_and_plan(tenant, userids=[alice, bob], msg=text("three"))
    assert outcomes(third) == {alice: (Outcome.HELD_BACK, HELD_DAILY_CAP),
                               bob: (Outcome.PENDING, "")}
    assert third.status == Notification.Status.SENDING
    assert NotificationBatch.objects.get(notification=third).userids == [bob]
    advance_time(emulator, 86_400)
    fourth = create_and_plan(tenant, userids=[alice], msg=text("four"))
    assert outcomes(fourth) == {alice: (Outcome.PENDING, "")}


def test_ledger_holds_back_identical_content_the_same_day(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    alice, bob = corp["userids"][:2]
    create_and_plan(tenant, userids=[alice], msg=text("same"))
    repeat = create_and_plan(tenant, userids=[alice, bob], msg={"text": {"content": "same"},
                                                                  "msgtype": "text"})
    assert outcomes(repeat) == {alice: (Outcome.HELD_BACK, HELD_IDENTICAL_CONTENT),
                                bob: (Outcome.PENDING, "")}
    only_alice = create_and_plan(tenant, userids=[alice], msg=text("same"))
    assert only_alice.status == Notification.Status.COMPLETED  # nothing left to send
    assert only_alice.counts == {Outcome.HELD_BACK: 1}
    assert not only_alice.batches.exists()
    advance_time(emulator, 86_400)
    assert outcomes(create_and_plan(tenant, userids=[alice], msg=text("same"))) == {
        alice: (Outcome.PENDING, "")}


def test_ledger_unknown_counts_to_the_cap_but_never_holds_identical_content(emulator,
                                                                           make_app):
    tenant, _, _ = make_app(users=1)
    day = ledger_day()
    ledger_book(tenant=tenant, day=day, userids=["u1"], content_digest="d1",
                state=LedgerEntry.State.UNKNOWN)
    assert ledger_admit(tenant=tenant, day=day, userids=["u1"], content_digest="d1",
                        daily_cap=2) == (["u1"], {})
    assert ledger_admit(tenant=tenant, day=day, userids=["u1", "u1"], content_digest="d2",
                        daily_cap=1) == ([], {"u1": HELD_DAILY_CAP})
    ledger_book(tenant=tenant, day=day, userids=["u1"], content_digest="d1")
    assert LedgerEntry.objects.get(tenant=tenant).state == LedgerEntry.State.BOOKED
    ledger_book(tenant=tenant, day=day, userids=["u1"], content_digest="d1",
                state=LedgerEntry.State.UNKNOWN)  # never downgrades
    assert LedgerEntry.objects.get(tenant=tenant).state == LedgerEntry.State.BOOKED


def test_ledger_day_is_the_shanghai_calendar_day(emulator, settings):
    from datetime import UTC, datetime

    at = datetime(2025, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Shanghai
    assert str(ledger_day(at=at)) == "2025-03-02"
    settings.MESSAGING_DAY_TZ = "UTC"
    assert str(ledger_day(at=at)) == "2025-03-01"


def test_ledger_defer_held_keeps_them_pending_for_the_next_day(emulator, make_app, settings):
    settings.MESSAGING_DAILY_CAP_INTERNAL = 1
    tenant, corp, _ = make_app(users=3)
    alice, bob = corp["userids"][:2]
    create_and_plan(tenant, userids=[alice], msg=text("one"))
    deferred = create_and_plan(tenant, userids=[alice, bob], msg=text("two"), defer_held=True)
    assert outcomes(deferred) == {alice: (Outcome.PENDING, ""), bob: (Outcome.PENDING, "")}
    waiting = Recipient.objects.get(notification=deferred, userid=alice)
    assert waiting.batch_id is None
    assert deferred.status == Notification.Status.SENDING
    assert deferred.next_attempt_at is not None
    assert ledger_day(at=deferred.next_attempt_at) > ledger_day()
    assert notification_plan(notification_id=deferred.pk) is None  # not due yet today
    advance_time(emulator, 86_400)
    again = notification_plan(notification_id=deferred.pk)
    assert again.next_attempt_at is None and again.status == Notification.Status.SENDING
    waiting.refresh_from_db()
    assert waiting.batch is not None and waiting.batch.seq == 2
    assert waiting.batch.userids == [alice]


def test_ledger_a_deferred_batch_is_released_on_the_day_it_was_booked(emulator, make_app,
                                                                      settings):
    """A deferred batch is booked on its later day; a refused send must release that day's
    booking, not the planning day's (they once used the planning day)."""
    from messaging.services.sending import batch_send

    settings.MESSAGING_DAILY_CAP_INTERNAL = 1
    tenant, corp, _ = make_app(users=3)
    alice = corp["userids"][0]
    create_and_plan(tenant, userids=[alice], msg=text("one"))
    deferred = create_and_plan(tenant, userids=[alice], msg=text("two"), defer_held=True)
    advance_time(emulator, 86_400)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the tenant's window promoted
        notification_plan(notification_id=deferred.pk)
    batch = Recipient.objects.get(notification=deferred, userid=alice).batch
    assert batch.ledger_day == ledger_day() > ledger_day(at=deferred.planned_at)
    booked = LedgerEntry.objects.get(tenant=tenant, day=batch.ledger_day, userid=alice,
                                     content_digest=batch.content_digest)
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", errcode=40035)
    batch_send(batch_id=batch.pk)
    assert not LedgerEntry.objects.filter(pk=booked.pk).exists()
