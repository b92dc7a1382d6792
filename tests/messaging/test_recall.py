"""Recall, the OA status bar and resend-failed against the emulator over HTTP: the services run
in this process (one test on the real Celery worker), time is moved with advance_time."""

import pytest
from django.conf import settings
from django.test import TestCase

from messaging.errors_recall import (
    NothingToResend,
    NotificationNotFinished,
    NotificationNotRecallable,
    RecallFailed,
    RecallInProgress,
    RecallWindowClosed,
    StatusBarInvalid,
    StatusBarNotApplicable,
    StatusBarWindowClosed,
)
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_create
from messaging.services.planning import notification_plan
from messaging.services.polling import batch_poll, batch_poll_claim
from messaging.services.recall import notification_recall
from messaging.services.resend import notification_resend_failed
from messaging.services.sending import batch_claim, batch_send, unknown_batches_settle
from messaging.services.status_bar import notification_status_bar_update
from tenants.models import Tenant
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, org, outcomes, text
from tests.tenants.conftest import wait_for

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome
BatchStatus = NotificationBatch.Status
NStatus = Notification.Status
_MSG = "topapi/message/corpconversation"



@pytest.fixture(autouse=True)
def _no_corp_wide_limit(settings):
    """The emulator's reset gives every test's first corp the same id, so the limiter's
    corp-wide window (143104) would carry this run's earlier sends into the next test; these
    tests are not about pacing."""
    settings.MESSAGING_LIMIT_CORP_PER_MINUTE = 0

def _batches(n: Notification) -> list[NotificationBatch]:
    return list(NotificationBatch.objects.filter(notification=n).order_by("seq"))


def _send_all(n: Notification) -> None:
    for b in _batches(n):
        if b.status == BatchStatus.PENDING:
            batch_send(batch_id=b.pk)


def _poll(emulator, n: Notification, seconds: float = 1.0) -> None:
    advance_time(emulator, seconds)
    for b in _batches(n):
        if b.status in (BatchStatus.SENT, BatchStatus.UNKNOWN):
            batch_poll(batch_id=b.pk)


def _calls(emulator, endpoint: str) -> int:
    return emulator.counters()["calls"].get(f"{_MSG}/{endpoint}", 0)


def _with(n: Notification, *wanted: str) -> set[str]:
    return {u for u, (o, _) in outcomes(n).items() if o in wanted}


def _active_users(emulator, corp: dict, k: int) -> list[str]:
    _, users = org(emulator, corp["corp_id"])
    active = [u["userid"] for u in users if u.get("active", True)]
    assert len(active) >= k
    return active[:k]


def _oa(status: str = "pending") -> dict:
    return {"msgtype": "oa", "oa": {
        "message_url": "https://example.com/leave/1",
        "head": {"bgcolor": "FFBBBBBB", "text": "leave"},
        "body": {"title": "Leave request", "content": "2 days"},
        "status_bar": {"status_value": status, "status_bg": "0xFFFF9D46"}}}


# -- recall ------------------------------------------------------------------------------------

def test_recall_withdraws_every_task_and_marks_who_had_it(emulator, make_app):
    tenant, _, _ = make_app(users=150)
    n = create_and_plan(tenant, to_all_user=True, msg=text("sent by mistake"))
    _send_all(n)
    _poll(emulator, n)
    first, second = _batches(n)
    emulator.mark_read(task_id=first.task_id, userids=first.userids[:3])
    _poll(emulator, n, 61)
    had = _with(n, Outcome.READ, Outcome.UNREAD)
    assert len(_with(n, Outcome.READ)) == 3 and len(had) == len(first.userids + second.userids)
    inactive = _with(n, Outcome.INACTIVE)

    done = notification_recall(notification_id=n.pk)

    assert done.status == NStatus.RECALLED and done.completed_at is not None
    assert _with(n, Outcome.RECALLED) == had
    assert _with(n, Outcome.INACTIVE) == inactive
    assert done.counts[Outcome.RECALLED] == len(had)
    for b in _batches(n):
        assert b.status == BatchStatus.DONE and b.next_attempt_at is None
        assert emulator.task(b.task_id)["recalled"] is True
    assert _calls(emulator, "recall") == 2
    # The poller leaves recalled batches alone, and a second recall is refused.
    advance_time(emulator, 3600)
    assert [batch_poll(batch_id=b.pk) for b in _batches(n)] == [None, None]
    with pytest.raises(NotificationNotRecallable):
        notification_recall(notification_id=n.pk)
    assert _calls(emulator, "recall") == 2


def test_recall_cancels_unsent_batches_and_releases_their_ledger(emulator, make_app):
    tenant, _, _ = make_app(users=300)
    n = create_and_plan(tenant, to_all_user=True, msg=text("half out"))
    first, held, pending = _batches(n)[:3]
    first = batch_send(batch_id=first.pk)
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)
    assert batch_send(batch_id=held.pk).status == BatchStatus.HELD
    Tenant.objects.filter(pk=tenant.pk).update(suspended=False)
    unsent = [b for b in _batches(n) if b.pk != first.pk]
    unsent_users = {u for b in unsent for u in b.userids}
    booked = set(LedgerEntry.objects.filter(tenant=tenant).values_list("userid", flat=True))
    assert unsent_users <= booked and pending.pk in {b.pk for b in unsent}

    done = notification_recall(notification_id=n.pk)

    assert done.status == NStatus.RECALLED
    assert [b.status for b in _batches(n)] == [BatchStatus.DONE] + [BatchStatus.CANCELLED] * len(
        unsent)
    assert _with(n, Outcome.CANCELLED) == unsent_users
    assert _with(n, Outcome.RECALLED) == set(first.userids)
    left = set(LedgerEntry.objects.filter(tenant=tenant).values_list("userid", flat=True))
    assert left == set(first.userids)
    assert emulator.task(first.task_id)["recalled"] is True
    assert all(batch_send(batch_id=b.pk) is None for b in unsent)
    assert _calls(emulator, "asyncsend_v2") == 1 and _calls(emulator, "recall") == 1



def test_recall_gives_the_cancelled_batches_turns_to_the_tenants_next(emulator, make_app,
                                                                      settings):
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 2
    tenant, _, _ = make_app(users=300)
    n = create_and_plan(tenant, to_all_user=True, msg=text("big"))
    other = create_and_plan(tenant, to_all_user=True, msg=text("next in line"))
    assert [b.queued_at is not None for b in _batches(n)] == [True, True, False]
    assert not any(b.queued_at for b in _batches(other))

    with TestCase.captureOnCommitCallbacks(execute=True):
        notification_recall(notification_id=n.pk)

    assert {b.status for b in _batches(n)} == {BatchStatus.CANCELLED}
    assert [b.queued_at is not None for b in _batches(other)][:2] == [True, True]


def test_recall_leaves_a_lost_sends_recipients_unknown_and_booked(emulator, make_app,
                                                                  settings):
    tenant, _, _ = make_app(users=20)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault(f"{_MSG}/asyncsend_v2", drop=True, count=1)
    _send_all(n)
    (batch,) = _batches(n)
    assert batch.status == BatchStatus.UNKNOWN and batch.task_id is None
    advance_time(emulator, settings.MESSAGING_UNKNOWN_RESEND_AFTER_S + 1)
    assert unknown_batches_settle() == [batch.pk]  # to be sent again the same day
    lost = _with(n, Outcome.UNKNOWN)
    assert lost and LedgerEntry.objects.filter(tenant=tenant, userid__in=lost).count() == len(
        lost)

    done = notification_recall(notification_id=n.pk)

    assert done.status == NStatus.RECALLED and f"{len(lost)} recipient(s)" in done.last_error
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CANCELLED
    # The lost send may have reached them: not "cancelled before sending", still booked.
    assert _with(n, Outcome.UNKNOWN) == lost
    assert LedgerEntry.objects.filter(tenant=tenant, userid__in=lost).count() == len(lost)
    assert _calls(emulator, "recall") == 0

def test_recall_is_refused_past_24_hours_and_changes_nothing(emulator, make_app):
    tenant, _, _ = make_app(users=150)
    early = create_and_plan(tenant, to_all_user=True, msg=text("early"))
    late = create_and_plan(tenant, to_all_user=True, msg=text("late"))
    batch_send(batch_id=_batches(early)[0].pk)
    sent, unsent = _batches(late)
    sent = batch_send(batch_id=sent.pk)
    _poll(emulator, late)
    before = outcomes(late)

    advance_time(emulator, 24 * 3600 - 120)  # just inside the window: recalled
    assert notification_recall(notification_id=early.pk).status == NStatus.RECALLED
    advance_time(emulator, 180)
    with pytest.raises(RecallWindowClosed) as refused:
        notification_recall(notification_id=late.pk)

    assert refused.value.extra["late_batches"] == [1]
    assert "24 hours" in refused.value.message
    assert outcomes(late) == before
    unsent.refresh_from_db()
    assert unsent.status == BatchStatus.PENDING
    assert Notification.objects.get(pk=late.pk).status != NStatus.RECALLED
    assert emulator.task(sent.task_id)["recalled"] is False
    assert _calls(emulator, "recall") == 1


def test_recall_waits_for_a_batch_being_sent(emulator, make_app):
    tenant, _, _ = make_app(users=150)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    first, second = _batches(n)
    first = batch_send(batch_id=first.pk)
    assert batch_claim(batch_id=second.pk) is not None  # a sender holds it: no task id yet
    before = outcomes(n)

    with pytest.raises(RecallInProgress) as refused:
        notification_recall(notification_id=n.pk)

    assert refused.value.extra["sending_batches"] == [2]
    assert outcomes(n) == before
    assert [b.status for b in _batches(n)] == [BatchStatus.SENT, BatchStatus.SENDING]
    assert _calls(emulator, "recall") == 0


def test_recall_waits_for_a_live_poll_and_not_for_a_dead_one(emulator, make_app):
    tenant, _, _ = make_app(users=20)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_all(n)
    advance_time(emulator, 1)
    (batch,) = _batches(n)
    assert batch_poll_claim(batch_id=batch.pk) is not None  # a poller holds it
    with pytest.raises(RecallInProgress):
        notification_recall(notification_id=n.pk)
    assert _calls(emulator, "recall") == 0
    advance_time(emulator, settings.MESSAGING_POLL_LEASE_S + 1)  # that poller died
    assert notification_recall(notification_id=n.pk).status == NStatus.RECALLED
    assert emulator.task(batch.task_id)["recalled"] is True


def test_a_dingtalk_refusal_keeps_what_was_recalled_and_a_retry_finishes(emulator, make_app):
    tenant, _, _ = make_app(users=150)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_all(n)
    _poll(emulator, n)
    first, second = _batches(n)
    # A task id DingTalk does not know: it answers 400002 for the second batch.
    NotificationBatch.objects.filter(pk=second.pk).update(task_id=second.task_id + 10_000)

    with pytest.raises(RecallFailed) as refused:
        notification_recall(notification_id=n.pk)

    assert refused.value.extra["errcode"] == 400002 and refused.value.extra["batch"] == 2
    assert "400002" in refused.value.message
    assert _with(n, Outcome.RECALLED) == set(first.userids)
    assert _with(n, Outcome.UNREAD) == set(second.userids)
    second.refresh_from_db()
    assert second.status == BatchStatus.SENT and second.lease_expires_at is None
    assert Notification.objects.get(pk=n.pk).status != NStatus.RECALLED

    NotificationBatch.objects.filter(pk=second.pk).update(task_id=second.task_id - 10_000)
    done = notification_recall(notification_id=n.pk)
    assert done.status == NStatus.RECALLED
    assert _with(n, Outcome.RECALLED) == set(first.userids + second.userids)
    assert emulator.task(second.task_id - 10_000)["recalled"] is True
    assert _calls(emulator, "recall") == 3  # the first batch was not asked about twice


def test_recall_before_planning_stops_it(emulator, make_app):
    tenant, _, _ = make_app(users=5)
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("never mind"))
    done = notification_recall(notification_id=n.pk)
    assert done.status == NStatus.RECALLED
    assert notification_plan(notification_id=n.pk) is None  # planning finds nothing to claim
    assert not _batches(n) and _calls(emulator, "asyncsend_v2") == 0


def test_recall_of_a_native_to_all_user_task(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, to_all_user_native=True, msg=text("all"))
    _send_all(n)
    (batch,) = _batches(n)
    assert batch.userids == [] and batch.task_id
    assert notification_recall(notification_id=n.pk).status == NStatus.RECALLED
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE
    assert emulator.task(batch.task_id)["recalled"] is True


def test_recall_is_refused_when_nobody_has_the_message(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    emulator.add_fault(f"{_MSG}/asyncsend_v2", errcode=40035, errmsg="bad parameter")
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_all(n)
    assert Notification.objects.get(pk=n.pk).status == NStatus.FAILED
    with pytest.raises(NotificationNotRecallable):
        notification_recall(notification_id=n.pk)
    assert Notification.objects.get(pk=n.pk).status == NStatus.FAILED


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_recall_after_the_worker_delivered(celery_worker, emulator, make_app):
    tenant, _, _ = make_app(users=20)
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("on the worker"))
    wait_for(lambda: Notification.objects.filter(pk=n.pk, status=NStatus.COMPLETED).exists(),
             timeout=60, what="delivery")
    had = _with(n, Outcome.READ, Outcome.UNREAD)
    done = notification_recall(notification_id=n.pk)
    assert done.status == NStatus.RECALLED and _with(n, Outcome.RECALLED) == had
    (batch,) = _batches(n)
    assert emulator.task(batch.task_id)["recalled"] is True


# -- the OA status bar -------------------------------------------------------------------------

def test_status_bar_update_reaches_the_task(emulator, make_app):
    tenant, corp, _ = make_app(users=8)
    n = create_and_plan(tenant, userids=_active_users(emulator, corp, 3), msg=_oa())
    _send_all(n)
    (batch,) = _batches(n)
    assert emulator.task(batch.task_id)["status_bar"]["status_value"] == "pending"

    result = notification_status_bar_update(notification_id=n.pk, status_value=" approved ",
                                            status_bg="ff78c06e")

    assert result.task_ids == [batch.task_id]
    assert emulator.task(batch.task_id)["status_bar"] == {"status_value": "approved",
                                                          "status_bg": "0xFF78C06E"}
    assert _calls(emulator, "status_bar/update") == 1


def test_status_bar_update_is_refused_before_any_call(emulator, make_app):
    tenant, corp, _ = make_app(users=8)
    users = _active_users(emulator, corp, 3)
    plain = create_and_plan(tenant, userids=users, msg=text("not an OA card"))
    _send_all(plain)
    with pytest.raises(StatusBarNotApplicable) as refused:
        notification_status_bar_update(notification_id=plain.pk, status_value="approved")
    assert refused.value.extra["msgtype"] == "text"
    oa = create_and_plan(tenant, userids=users, msg=_oa())
    with pytest.raises(StatusBarNotApplicable):  # planned, not sent: no task yet
        notification_status_bar_update(notification_id=oa.pk, status_value="approved")
    _send_all(oa)
    for value, bg in (("", None), ("x" * 65, None), ("approved", "green"),
                      ("approved", "0xFF78C06")):
        with pytest.raises(StatusBarInvalid):
            notification_status_bar_update(notification_id=oa.pk, status_value=value,
                                           status_bg=bg)
    advance_time(emulator, 7 * 24 * 3600)
    with pytest.raises(StatusBarWindowClosed):
        notification_status_bar_update(notification_id=oa.pk, status_value="approved")
    assert _calls(emulator, "status_bar/update") == 0


# -- resend to the failed ----------------------------------------------------------------------

def test_resend_failed_makes_one_notification_for_exactly_the_failed(emulator, make_app):
    tenant, corp, _ = make_app(users=150)
    n = create_and_plan(tenant, to_all_user=True, msg=text("try again"))
    first, second = _batches(n)
    emulator.add_fault(f"{_MSG}/asyncsend_v2", errcode=40035, count=1)
    assert batch_send(batch_id=first.pk).status == BatchStatus.FAILED
    leaver = second.userids[0]  # inactive by the time DingTalk delivers: reported failed
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": leaver, "active": False})
    batch_send(batch_id=second.pk)
    _poll(emulator, n)
    assert outcomes(n)[leaver] == (Outcome.FAILED, "")
    assert Notification.objects.get(pk=n.pk).status == NStatus.PARTIALLY_FAILED
    assert LedgerEntry.objects.filter(tenant=tenant, userid=leaver).exists()

    resend = notification_resend_failed(notification_id=n.pk)

    assert set(resend.userids) == set(first.userids) | {leaver}
    assert (resend.tenant_id, resend.msg) == (tenant.pk, n.msg)
    assert resend.idempotency_key == f"resend-failed:{n.pk}"
    assert resend.status == NStatus.ACCEPTED
    # The reported failure's booking is given back, or the resend is held back as identical.
    assert not LedgerEntry.objects.filter(tenant=tenant, userid=leaver).exists()
    again = notification_resend_failed(notification_id=n.pk)
    assert again.pk == resend.pk
    assert Notification.objects.filter(tenant=tenant).count() == 2
    # Planned: nobody held back as identical content (the leaver's booking was released).
    planned = notification_plan(notification_id=resend.pk)
    assert _with(planned, Outcome.PENDING) == set(first.userids) | {leaver}


def test_resend_failed_leaves_out_the_daily_cap_and_refuses_clearly(emulator, make_app):
    tenant, corp, _ = make_app(users=10)
    a, b, c, d = _active_users(emulator, corp, 4)
    emulator.set_config(notices={"daily_cap_internal": 1})
    earlier = create_and_plan(tenant, userids=[a, b, c], msg=text("one"))
    _send_all(earlier)
    n = create_and_plan(tenant, userids=[a, b, c, d], msg=text("two"))
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": d, "active": False})
    _send_all(n)
    with pytest.raises(NotificationNotFinished):  # sent, outcomes not known yet
        notification_resend_failed(notification_id=n.pk)
    _poll(emulator, n)
    assert {outcomes(n)[u] for u in (a, b, c)} == {(Outcome.FORBIDDEN, "143105")}

    resend = notification_resend_failed(notification_id=n.pk)

    assert resend.userids == [d]
    _poll(emulator, earlier)
    assert Notification.objects.get(pk=earlier.pk).status == NStatus.COMPLETED
    with pytest.raises(NothingToResend):
        notification_resend_failed(notification_id=earlier.pk)
    assert Notification.objects.filter(tenant=tenant).count() == 3


def test_resend_failed_of_a_recall_or_of_nothing_is_refused(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    _send_all(n)
    notification_recall(notification_id=n.pk)
    with pytest.raises(NotificationNotFinished):
        notification_resend_failed(notification_id=n.pk)
    assert Notification.objects.filter(tenant=tenant).count() == 1
