"""Sending batches to the emulator: task ids, the limiter, lost answers, refusals, inactive
tenants. The send service runs in this process; the emulator answers over HTTP."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import TestCase

from core import clock
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services import pacing, sending
from messaging.services.polling import batch_poll
from messaging.services.sending import batch_send, batches_sweep
from tenants.models import Tenant
from tenants.services.clients import client_for
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, outcomes, text, to_morning
from tests.tenants.conftest import authorized_tenant, wait_for

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome
BatchStatus = NotificationBatch.Status


def _batches(n: Notification) -> list[NotificationBatch]:
    return list(NotificationBatch.objects.filter(notification=n).order_by("seq"))


def _send_all(n: Notification) -> list[NotificationBatch]:
    return [batch_send(batch_id=b.pk) for b in _batches(n)]


def _sends(emulator) -> int:
    return emulator.counters()["calls"].get("topapi/message/corpconversation/asyncsend_v2", 0)


def test_batch_send_hands_every_batch_to_dingtalk_once(emulator, make_app):
    tenant, corp, _ = make_app(users=250)
    n = create_and_plan(tenant, to_all_user=True, msg=text("to everyone"))
    active = Recipient.objects.filter(notification=n, outcome=Outcome.PENDING).count()
    sent = _send_all(n)
    assert len(sent) == 3 and sum(len(b.userids) for b in sent) == active > 200
    assert all(b.status == BatchStatus.SENT and b.task_id for b in sent)
    assert len({b.task_id for b in sent}) == 3
    assert all(b.poll_until == b.sent_at + timedelta(days=1) for b in sent)
    for b in sent:
        assert emulator.task(b.task_id)["recipients"] == len(b.userids)
    n.refresh_from_db()
    assert n.status == Notification.Status.SENT and n.counts[Outcome.SENT] == active
    assert batch_send(batch_id=sent[0].pk) is None  # sent once
    assert _sends(emulator) == 3


def test_batch_send_waits_for_the_limiter_without_calling_dingtalk(emulator, make_app,
                                                                    settings):
    tenant, _, _ = make_app(users=200)
    settings.MESSAGING_LIMIT_OVERRIDES = {tenant.appkey: {
        "MESSAGING_LIMIT_APP_CORP_PER_MINUTE": 100}}
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    first, second = _send_all(n)
    assert first.status == BatchStatus.SENT
    assert second.status == BatchStatus.PENDING and second.task_id is None
    assert "limiter: notice:app:" in second.last_error
    wait = (second.next_attempt_at - clock.now()).total_seconds()
    assert 55 < wait <= 61.5
    assert _sends(emulator) == 1
    assert batch_send(batch_id=second.pk) is None  # not due yet
    clock.advance(wait + 0.1)
    assert batch_send(batch_id=second.pk).status == BatchStatus.SENT


def test_batch_send_marks_a_lost_answer_unknown_and_never_resends_blindly(emulator, make_app,
                                                                          settings):
    """The request left and its answer was lost: UNKNOWN, and neither the sweep nor a second
    task message sends it again before MESSAGING_UNKNOWN_RESEND_AFTER_S."""
    to_morning(emulator)
    tenant, _, _ = make_app(users=30)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", drop=True, count=1)
    (batch,) = _send_all(n)
    assert batch.status == BatchStatus.UNKNOWN and batch.task_id is None
    assert "ConnectionFailed" in batch.last_error or "Timeout" in batch.last_error
    assert {o for o, _ in outcomes(n).values()} == {Outcome.UNKNOWN, Outcome.INACTIVE}
    states = set(LedgerEntry.objects.filter(tenant=tenant).values_list("state", flat=True))
    assert states == {LedgerEntry.State.UNKNOWN}
    assert batches_sweep(pending_after=timedelta(seconds=20)) == []
    assert batch_send(batch_id=batch.pk) is None
    assert _sends(emulator) == 1  # the dropped one (the emulator counts it), never another
    n.refresh_from_db()
    assert n.status == Notification.Status.SENDING  # the sweep still owes it an answer


def test_a_lost_answer_is_sent_once_more_the_same_day_and_nobody_gets_it_twice(
        emulator, make_app, settings):
    """DingTalk did the send (drop_after) but the answer was lost. The sweep sends the batch
    once more the same day; DingTalk's identical-content rule drops it for everyone the first
    send reached: DUPLICATE (delivered), not failed, and each user got exactly one message."""
    to_morning(emulator)
    tenant, _, _ = make_app(users=30)
    n = create_and_plan(tenant, to_all_user=True, msg=text("once"))
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", drop_after=True,
                       count=1)
    (batch,) = _send_all(n)
    assert batch.status == BatchStatus.UNKNOWN and _sends(emulator) == 1
    advance_time(emulator, settings.MESSAGING_UNKNOWN_RESEND_AFTER_S + 1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        batches_sweep(pending_after=timedelta(seconds=20))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PENDING and batch.resends == 1 and batch.queued_at
    again = batch_send(batch_id=batch.pk)
    assert again.status == BatchStatus.SENT and again.task_id and _sends(emulator) == 2
    advance_time(emulator, 2)
    batch_poll(batch_id=batch.pk)
    got = {o for o, _ in outcomes(n).values()} - {Outcome.INACTIVE}
    assert got == {Outcome.DUPLICATE}
    assert {c for o, c in outcomes(n).values() if o == Outcome.DUPLICATE} == {"143106"}
    n.refresh_from_db()
    assert n.status == Notification.Status.COMPLETED
    assert emulator.counters()["recipients"]["forbidden:143106"] == len(batch.userids)
    # A third send never happens: the batch is with DingTalk now.
    advance_time(emulator, settings.MESSAGING_UNKNOWN_RESEND_AFTER_S + 1)
    batches_sweep(pending_after=timedelta(seconds=20))
    assert _sends(emulator) == 2


def test_a_lost_answer_past_its_day_stays_unknown_for_good(emulator, make_app, settings):
    to_morning(emulator)
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", drop=True, count=1)
    (batch,) = _send_all(n)
    assert batch.status == BatchStatus.UNKNOWN
    advance_time(emulator, 86_400)  # the next ledger day: a resend could reach users twice
    assert batches_sweep(pending_after=timedelta(seconds=20)) == []
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.resends == 0
    assert _sends(emulator) == 1
    n.refresh_from_db()
    assert n.status == Notification.Status.FAILED and n.counts[Outcome.UNKNOWN] == len(
        batch.userids)


def test_batch_send_records_dingtalk_refusal_and_releases_the_ledger(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", errcode=40035,
                       errmsg="bad parameter")
    (batch,) = _send_all(n)
    assert batch.status == BatchStatus.FAILED and "40035" in batch.last_error
    assert Recipient.objects.filter(batch=batch, outcome=Outcome.FAILED,
                                    code="40035").count() == len(batch.userids)
    assert not LedgerEntry.objects.filter(tenant=tenant).exists()
    n.refresh_from_db()
    assert n.status == Notification.Status.FAILED


def test_batch_send_backs_off_when_throttled(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", errcode=90018,
                       count=1)
    (batch,) = _send_all(n)
    assert batch.status == BatchStatus.PENDING and "RateLimited" in batch.last_error
    assert batch.next_attempt_at > clock.now()
    clock.advance((batch.next_attempt_at - clock.now()).total_seconds() + 0.1)
    assert batch_send(batch_id=batch.pk).status == BatchStatus.SENT


def test_batch_send_cancels_for_a_relieved_tenant_and_holds_for_a_stopped_one(
        emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    relieved = create_and_plan(tenant, userids=corp["userids"][:3], msg=text("r"))
    stopped = create_and_plan(tenant, userids=corp["userids"][:3], msg=text("s"))
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.RELIEVED)
    (batch,) = _send_all(relieved)
    assert batch.status == BatchStatus.CANCELLED
    assert set(outcomes(relieved).values()) == {(Outcome.CANCELLED, "")}
    relieved.refresh_from_db()
    assert relieved.status == Notification.Status.CANCELLED
    assert not LedgerEntry.objects.filter(tenant=tenant,
                                          content_digest=relieved.content_digest).exists()
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.APP_STOPPED)
    (held,) = _send_all(stopped)
    assert held.status == BatchStatus.HELD and set(outcomes(stopped).values()) == {
        (Outcome.PENDING, "")}
    assert _sends(emulator) == 0


def test_batches_sweep_requeues_lost_sends_and_marks_dead_senders_unknown(emulator,
                                                                         make_app):
    tenant, _, _ = make_app(users=150)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    lost, dead = _batches(n)
    now = clock.now()
    NotificationBatch.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(
        minutes=1))
    NotificationBatch.objects.filter(pk=dead.pk).update(
        status=BatchStatus.SENDING, claimed_at=now, lease_expires_at=now - timedelta(
            seconds=1))
    assert batches_sweep(pending_after=timedelta(seconds=20)) == [lost.pk]
    dead.refresh_from_db()
    assert dead.status == BatchStatus.UNKNOWN
    assert Recipient.objects.filter(batch=dead, outcome=Outcome.UNKNOWN).count() == len(
        dead.userids)
    assert _sends(emulator) == 0


def test_the_sweep_settles_what_a_dead_worker_left_unsettled(emulator, make_app):
    """A worker died between its batch's commit and the settle: the notification still says
    SENDING though every batch is with DingTalk; the sweep moves it on."""
    from messaging.services.settling import notifications_settle_sweep

    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_all(n)
    Notification.objects.filter(pk=n.pk).update(status=Notification.Status.SENDING)
    assert notifications_settle_sweep() == [n.pk]
    n.refresh_from_db()
    assert n.status == Notification.Status.SENT
    assert notifications_settle_sweep() == []  # recipients wait for the poller: nothing to do


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_comes_after_the_sweep_took_the_lease_still_records_the_task(
        emulator, make_app, settings, monkeypatch):
    """The sender's lease ran out while DingTalk was answering: the sweep marked the batch,
    its recipients and their bookings UNKNOWN; the answer then records its task id all the
    same, the recipients SENT and the bookings BOOKED again (one statement for the batch and
    its recipients, the bookings after it in the same transaction)."""
    # This test sends and polls itself: the session's Celery worker, if an earlier test
    # started it, would otherwise take the committed batch first (and poll it later).
    monkeypatch.setattr(pacing, "batch_send_enqueue", lambda **_: None)
    monkeypatch.setattr(sending, "batch_poll_enqueue_on_commit", lambda **_: None)
    to_morning(emulator)
    tenant, _, _ = make_app(users=20)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    (batch,) = _batches(n)
    client_for(tenant).access_token()  # the token fetch is not what the fault delays
    emulator.add_fault("topapi/message/corpconversation/asyncsend_v2", latency_ms=5000,
                       count=1)

    def send() -> None:
        try:
            batch_send(batch_id=batch.pk)
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        wait_for(lambda: NotificationBatch.objects.filter(
            pk=batch.pk, status=BatchStatus.SENDING).exists(), what="the claim")
        advance_time(emulator, settings.MESSAGING_SEND_LEASE_S + 1)
        batches_sweep(pending_after=timedelta(seconds=20))
        batch.refresh_from_db()
        assert batch.status == BatchStatus.UNKNOWN and batch.task_id is None
        assert set(LedgerEntry.objects.filter(tenant=tenant).values_list("state", flat=True)
                   ) == {LedgerEntry.State.UNKNOWN}
    finally:
        sender.join(timeout=30)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SENT and batch.task_id is not None
    assert set(Recipient.objects.filter(batch=batch).values_list("outcome", flat=True)) == {
        Outcome.SENT}
    assert set(LedgerEntry.objects.filter(tenant=tenant).values_list("state", flat=True)) == {
        LedgerEntry.State.BOOKED}
    assert _sends(emulator) == 1
