"""A notification end to end on a real Celery worker: planned, sent, polled, swept; the
emulator over HTTP, time moved with advance_time, outcomes awaited with a deadline."""

import pytest

from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_create
from messaging.tasks import notifications_sweep
from tenants.models import Tenant
from tests.conftest import advance_time
from tests.messaging.notification_support import outcomes, text, to_morning
from tests.tenants.conftest import authorized_tenant, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Outcome = Recipient.Outcome
BatchStatus = NotificationBatch.Status
NStatus = Notification.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"


def _status(n: Notification, *statuses: str) -> Notification | None:
    return Notification.objects.filter(pk=n.pk, status__in=statuses).first()


def _delivered(n: Notification) -> bool:
    got = outcomes(n)
    return bool(got) and all(o in (Outcome.READ, Outcome.UNREAD, Outcome.INACTIVE)
                             for o, _ in got.values())


def _sweep_after(emulator, settings, seconds: float) -> None:
    """Move time past a window and the sweep's grace, then run the sweep (publishes to the
    worker), as beat would."""
    advance_time(emulator, seconds + settings.MESSAGING_SWEEP_PENDING_AFTER_S + 1)
    notifications_sweep()


def test_250_users_reach_dingtalk_in_3_batches_and_every_one_gets_read_or_unread(
        celery_worker, emulator, make_app, settings):
    tenant, _, _ = make_app(users=250)
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("all hands"))
    wait_for(lambda: _status(n, NStatus.COMPLETED), timeout=60, what="completion")
    assert _delivered(n)
    batches = list(NotificationBatch.objects.filter(notification=n).order_by("seq"))
    assert len(batches) == 3 and len({b.task_id for b in batches}) == 3
    assert emulator.counters()["calls"][_SEND] == 3
    readers = batches[1].userids[:10]
    emulator.mark_read(task_id=batches[1].task_id, userids=readers)
    _sweep_after(emulator, settings, settings.MESSAGING_POLL_READ_MIN_S)
    wait_for(lambda: Recipient.objects.filter(notification=n, outcome=Outcome.READ).count()
             == 10, timeout=30, what="read status refreshed")
    assert {u for u, (o, _) in outcomes(n).items() if o == Outcome.READ} == set(readers)
    # The recount follows the recipients' commit (the poll's settle, a moment later).
    wait_for(lambda: Notification.objects.get(pk=n.pk).counts.get(Outcome.READ) == 10,
             timeout=30, what="the counts recounted")


def test_a_per_minute_quota_hit_is_delivered_after_the_window(celery_worker, emulator,
                                                              make_app, settings):
    tenant, _, _ = make_app(users=250)
    emulator.set_config(notices={"per_minute_app_corp": 100})
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("paced"))
    wait_for(lambda: NotificationBatch.objects.filter(notification=n, seq__gt=3).exists()
             and not NotificationBatch.objects.filter(
                 notification=n, status=BatchStatus.SENT,
                 recipients__outcome=Outcome.SENT).exists(),
             timeout=60, what="the dropped recipients put back")
    assert emulator.counters()["recipients"]["forbidden:143103"] > 0
    for _ in range(3):  # at most 100 a minute: the rest go in the following windows
        _sweep_after(emulator, settings, 61)
        wait_for(lambda: not NotificationBatch.objects.filter(
            notification=n, status__in=(BatchStatus.SENDING,)).exists()
            and not Recipient.objects.filter(notification=n, outcome=Outcome.SENT).exists(),
            timeout=30, what="the next window's sends polled")
    wait_for(lambda: _status(n, NStatus.COMPLETED), timeout=30, what="completion")
    assert _delivered(n)


def test_a_lost_send_answer_is_sent_once_more_and_nobody_gets_it_twice(
        celery_worker, emulator, make_app, settings):
    """DingTalk made the task but the answer was lost (drop_after): UNKNOWN, never resent
    blindly; the sweep sends it once more the same day and DingTalk drops that for everyone
    as identical content: every recipient a DUPLICATE (delivered once), none failed."""
    to_morning(emulator)
    tenant, _, _ = make_app(users=20)
    emulator.add_fault(_SEND, drop_after=True, count=1)
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("lost"))
    wait_for(lambda: NotificationBatch.objects.filter(notification=n,
                                                      status=BatchStatus.UNKNOWN).exists(),
             timeout=30, what="the batch marked unknown")
    assert emulator.counters()["calls"].get(_SEND, 0) == 1
    _sweep_after(emulator, settings, settings.MESSAGING_UNKNOWN_RESEND_AFTER_S)
    done = wait_for(lambda: _status(n, NStatus.COMPLETED), timeout=30, what="completion")
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert batch.resends == 1 and batch.task_id is not None
    assert emulator.counters()["calls"][_SEND] == 2
    got = {o for o, _ in outcomes(n).values()} - {Outcome.INACTIVE}
    assert got == {Outcome.DUPLICATE}
    assert done.counts[Outcome.DUPLICATE] == len(batch.userids)
    # The emulator delivered each user one message: the resend's task reached nobody.
    result = emulator.task(batch.task_id)["send_result"]
    assert not result["unread_user_id_list"] and not result["read_user_id_list"]
    assert emulator.counters()["recipients"]["forbidden:143106"] == len(batch.userids)


def test_a_relieved_tenants_pending_batches_are_cancelled(celery_worker, emulator, make_suite,
                                                          settings):
    tenant, corp = authorized_tenant(emulator, make_suite)
    emulator.add_fault(_SEND, errcode=90018)  # throttled: its batch waits, pending
    n = notification_create(tenant=tenant, userids=corp["userids"][:4], msg=text("late"))
    wait_for(lambda: NotificationBatch.objects.filter(
        notification=n, status=BatchStatus.PENDING, last_error__contains="RateLimited").exists(),
        timeout=30, what="a throttled, pending batch")
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.RELIEVED)
    emulator.clear_faults()
    _sweep_after(emulator, settings, settings.MESSAGING_SEND_RETRY_MAX_S)
    wait_for(lambda: _status(n, NStatus.CANCELLED), timeout=30, what="cancellation")
    assert set(NotificationBatch.objects.filter(notification=n).values_list(
        "status", flat=True)) == {BatchStatus.CANCELLED}
    assert {o for o, _ in outcomes(n).values()} == {Outcome.CANCELLED}
    assert not NotificationBatch.objects.filter(notification=n, task_id__isnull=False).exists()


def test_mixed_audiences_across_three_tenants_of_both_kinds(celery_worker, emulator, make_suite,
                                                            make_app):
    """Two tenants of one suite and an internal app, at once: userids plus a department, a
    department alone, and the whole company. Every recipient ends read or unread (or inactive
    as DingTalk lists them), each batch one DingTalk task, nobody forbidden, nobody twice."""
    from tests.tenants.conftest import unique_corp_id
    from tests.tenants.factories import TenantFactory

    suite, _ = make_suite()
    tenants = []
    for _ in range(2):
        corp = emulator.create_corp(users=60, corp_id=unique_corp_id())
        auth = emulator.authorize(suite.suite_key, corp["corp_id"])
        tenants.append((TenantFactory(suite=suite, corp_id=corp["corp_id"],
                                      agent_id=auth["agent_id"], app_id=auth["app_id"]), corp))
    app, app_corp, _ = make_app(users=150)
    (a, a_corp), (b, b_corp) = tenants
    sent = [
        notification_create(tenant=a, userids=a_corp["userids"][:5],
                            dept_ids=[a_corp["dept_ids"][-1]], msg=text("a")),
        notification_create(tenant=b, dept_ids=[1], msg=text("b")),
        notification_create(tenant=app, to_all_user=True, msg=text("app")),
    ]
    for n in sent:
        wait_for(lambda n=n: _status(n, NStatus.COMPLETED), timeout=90, what=f"{n} completed")
        assert _delivered(n), outcomes(n)
        batches = NotificationBatch.objects.filter(notification=n)
        assert batches.filter(task_id__isnull=True).count() == 0
    counters = emulator.counters()["recipients"]
    assert not [k for k in counters if k.startswith("forbidden:")]
    delivered = sum(Recipient.objects.filter(notification=n).exclude(
        outcome=Outcome.INACTIVE).count() for n in sent)
    assert counters["delivered"] == delivered > 150
    assert len(outcomes(sent[2])) == len(app_corp["userids"])
