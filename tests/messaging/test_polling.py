"""Polling sent batches at the emulator: progress, results per recipient, per-minute drops sent
again after the window, final forbidden codes, read refreshes and the end of the window."""

from datetime import timedelta

import pytest

from core import clock
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services.pacing import tenant_sends_promote
from messaging.services.polling import batch_poll, polls_sweep
from messaging.services.sending import batch_send
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, outcomes, text

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome
BatchStatus = NotificationBatch.Status
NStatus = Notification.Status
_RESULT = "topapi/message/corpconversation/getsendresult"


def _batches(n: Notification, **filters) -> list[NotificationBatch]:
    return list(NotificationBatch.objects.filter(notification=n, **filters).order_by("seq"))


def _send_due(emulator, n: Notification, seconds: float = 0) -> None:
    advance_time(emulator, seconds)
    tenant_sends_promote(tenant_id=n.tenant_id)  # what the countdown promotion task does
    for b in _batches(n, status=BatchStatus.PENDING):
        batch_send(batch_id=b.pk)


def _poll_due(emulator, n: Notification, seconds: float = 1.0) -> None:
    advance_time(emulator, seconds)
    for b in _batches(n, status__in=(BatchStatus.SENT, BatchStatus.UNKNOWN)):
        batch_poll(batch_id=b.pk)


def _active(n: Notification) -> list[str]:
    return [u for u, (o, _) in outcomes(n).items() if o != Outcome.INACTIVE]


def test_batch_poll_records_every_recipient_and_refreshes_read_status(emulator, make_app):
    tenant, _, _ = make_app(users=250)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_due(emulator, n)
    _poll_due(emulator, n)
    active = _active(n)
    assert {outcomes(n)[u] for u in active} == {(Outcome.UNREAD, "")}
    n.refresh_from_db()
    assert n.status == NStatus.COMPLETED and n.counts[Outcome.UNREAD] == len(active)
    first = _batches(n)[0]
    assert first.status == BatchStatus.SENT  # read status is still refreshed
    assert batch_poll(batch_id=first.pk) is None  # not due: the next refresh is a minute away
    readers = first.userids[:7]
    emulator.mark_read(task_id=first.task_id, userids=readers)
    _poll_due(emulator, n, seconds=61)
    assert {u for u, (o, _) in outcomes(n).items() if o == Outcome.READ} == set(readers)
    n.refresh_from_db()
    assert n.counts[Outcome.READ] == 7 and n.counts[Outcome.UNREAD] == len(active) - 7


def test_batch_poll_of_named_users_asks_getsendresult_only(emulator, make_app):
    """getsendresult lists only the recipients DingTalk has processed: the others stay waiting
    and are polled again soon, and no getsendprogress call is made (nor counted against the
    app's monthly call budget)."""
    tenant, corp, _ = make_app(users=60)
    emulator.set_config(notices={"delivery_rate_per_s": 10})
    n = create_and_plan(tenant, userids=corp["userids"][:40], msg=text())
    _send_due(emulator, n)
    _poll_due(emulator, n, seconds=1.0)
    (batch,) = _batches(n)
    waiting = {u for u in _active(n) if outcomes(n)[u][0] == Outcome.SENT}
    assert 20 < len(waiting) < len(_active(n))  # about 10 processed in the first second
    assert batch.status == BatchStatus.SENT and batch.next_attempt_at <= clock.now() + timedelta(
        seconds=2)
    _poll_due(emulator, n, seconds=5.0)
    after = [outcomes(n)[u][0] for u in waiting]
    assert Outcome.SENT not in after and after.count(Outcome.UNREAD) > len(after) / 2
    n.refresh_from_db()
    assert n.status in Notification.FINAL
    calls = emulator.counters()["calls"]
    assert calls.get(_RESULT, 0) == 2
    assert calls.get("topapi/message/corpconversation/getsendprogress", 0) == 0


def test_batch_poll_sends_per_minute_drops_again_after_the_window(emulator, make_app):
    tenant, _, _ = make_app(users=250)
    emulator.set_config(notices={"per_minute_app_corp": 120})
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    active = _active(n)
    _send_due(emulator, n)
    _poll_due(emulator, n)
    again = _batches(n, status=BatchStatus.PENDING)
    assert sum(len(b.userids) for b in again) == len(active) - 120
    n.refresh_from_db()
    assert n.status == NStatus.SENDING and n.counts[Outcome.PENDING] == len(active) - 120
    assert all(b.next_attempt_at > clock.now() + timedelta(seconds=55) for b in again)
    _send_due(emulator, n, seconds=62)
    _poll_due(emulator, n)
    assert {outcomes(n)[u] for u in active} == {(Outcome.UNREAD, "")}
    n.refresh_from_db()
    assert n.status == NStatus.COMPLETED
    # DingTalk dropped them once (the first minute), never after the window.
    assert emulator.counters()["recipients"]["forbidden:143103"] == len(active) - 120


def test_batch_poll_records_the_daily_cap_with_its_code(emulator, make_app):
    tenant, corp, _ = make_app(users=5)
    emulator.set_config(notices={"daily_cap_internal": 1})
    users = corp["userids"][:3]
    first = create_and_plan(tenant, userids=users, msg=text("one"))
    _send_due(emulator, first)
    second = create_and_plan(tenant, userids=users, msg=text("two"))
    _send_due(emulator, second)
    _poll_due(emulator, second)
    got = {outcomes(second)[u] for u in users if outcomes(second)[u][0] != Outcome.INACTIVE}
    assert got == {(Outcome.FORBIDDEN, "143105")}
    second.refresh_from_db()
    assert second.status == NStatus.FAILED and second.counts[Outcome.FORBIDDEN] == len(
        [u for u in users if outcomes(second)[u][0] == Outcome.FORBIDDEN])
    assert all(b.status == BatchStatus.DONE for b in _batches(second))


def test_an_unknown_batch_with_a_task_id_is_polled_like_a_sent_one(emulator, make_app):
    tenant, _, _ = make_app(users=20)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_due(emulator, n)
    (batch,) = _batches(n)
    NotificationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.UNKNOWN)
    Recipient.objects.filter(batch=batch).update(outcome=Outcome.UNKNOWN)
    LedgerEntry.objects.filter(tenant=tenant).update(state=LedgerEntry.State.UNKNOWN)
    _poll_due(emulator, n)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SENT
    assert set(Recipient.objects.filter(batch=batch).values_list("outcome", flat=True)) == {
        Outcome.UNREAD}
    assert set(LedgerEntry.objects.filter(tenant=tenant).values_list("state", flat=True)) == {
        LedgerEntry.State.BOOKED}


def test_the_poller_stops_after_its_window(emulator, make_app, settings):
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_due(emulator, n)
    _poll_due(emulator, n)
    (batch,) = _batches(n)
    results = emulator.counters()["calls"].get(_RESULT, 0)
    # Refreshes until poll_until, never past it.
    advance_time(emulator, settings.MESSAGING_POLL_WINDOW_S - 30)
    assert polls_sweep() == [batch.pk]
    assert batch_poll(batch_id=batch.pk).status == BatchStatus.SENT
    batch.refresh_from_db()
    assert batch.next_attempt_at == batch.poll_until
    advance_time(emulator, 31)
    assert batch_poll(batch_id=batch.pk).status == BatchStatus.DONE
    assert emulator.counters()["calls"].get(_RESULT, 0) == results + 1
    advance_time(emulator, 3600)
    assert polls_sweep() == [] and batch_poll(batch_id=batch.pk) is None


def test_polls_keep_the_apps_per_api_budget_without_calling(emulator, make_app, settings):
    """Read refreshes fall due together: past the app's calls per second to getsendresult, a
    poll is due again when there is room, and DingTalk is not called (no 90018)."""
    tenant, corp, _ = make_app(users=5)
    settings.MESSAGING_LIMIT_OVERRIDES = {tenant.appkey: {
        "MESSAGING_LIMIT_APP_API_PER_SECOND": 1}}
    first = create_and_plan(tenant, userids=corp["userids"][:1], msg=text("one"))
    second = create_and_plan(tenant, userids=corp["userids"][1:2], msg=text("two"))
    _send_due(emulator, first)
    _send_due(emulator, second, seconds=1.1)  # (the sends' own budget is 1 a second too)
    advance_time(emulator, 2)
    results = emulator.counters()["calls"].get(_RESULT, 0)
    (a,), (b,) = _batches(first), _batches(second)
    assert a.status == b.status == BatchStatus.SENT, (a.last_error, b.last_error)
    batch_poll(batch_id=a.pk)
    held = batch_poll(batch_id=b.pk)  # its getsendresult had no room this second
    assert held.status == BatchStatus.SENT and "limiter: api:" in held.last_error
    assert 0 < (held.next_attempt_at - clock.now()).total_seconds() <= 1.0
    assert emulator.counters()["calls"].get(_RESULT, 0) == results + 1
