"""Each tenant's send window (messaging/services/pacing.py): a tenant holds at most
MESSAGING_SEND_WINDOW_PER_TENANT queued or sending batches; a finished send gives the turn to
its next batch, first batches of every notification before second ones; the sweep promotes
what a dead worker left; an inactive tenant's batches are not promoted and its notification
shows HELD; throttled sends give up after MESSAGING_SEND_MAX_ATTEMPTS tries."""

from datetime import timedelta

import pytest
from django.test import TestCase

from core import clock
from messaging.models import Notification, NotificationBatch
from messaging.services.pacing import tenant_sends_promote, tenants_promote_sweep
from messaging.services.sending import batch_send
from tenants.services.tenants import tenant_resume, tenant_suspend
from tests.messaging.notification_support import create_and_plan, text
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

BatchStatus = NotificationBatch.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"


def _queued(tenant) -> list[tuple[int, int]]:
    """(notification id, seq) of the tenant's batches holding a turn, in order."""
    return list(NotificationBatch.objects.filter(
        tenant=tenant, status=BatchStatus.PENDING, queued_at__isnull=False,
    ).order_by("seq", "notification_id").values_list("notification_id", "seq"))


def test_a_tenant_holds_at_most_its_window_of_queued_batches(emulator, make_app, settings):
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 2
    tenant, _, _ = make_app(users=450)
    n = create_and_plan(tenant, to_all_user=True, msg=text("big"))
    batches = list(NotificationBatch.objects.filter(notification=n).order_by("seq"))
    assert len(batches) == 5
    assert _queued(tenant) == [(n.pk, 1), (n.pk, 2)]
    assert batch_send(batch_id=batches[2].pk) is None  # parked: not its turn, not sent
    assert tenant_sends_promote(tenant_id=tenant.pk) == []  # the window is full
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert batch_send(batch_id=batches[0].pk).status == BatchStatus.SENT
    assert _queued(tenant) == [(n.pk, 2), (n.pk, 3)]  # the turn went to the next batch


def test_first_batches_of_every_notification_go_before_second_ones(emulator, make_app,
                                                                   settings):
    """A tenant's small urgent notification is not stuck behind its own broadcast."""
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 1
    tenant, corp, _ = make_app(users=450)
    big = create_and_plan(tenant, to_all_user=True, msg=text("big"))
    small = create_and_plan(tenant, userids=corp["userids"][:3], msg=text("small"))
    assert _queued(tenant) == [(big.pk, 1)]
    first = NotificationBatch.objects.get(notification=big, seq=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch_send(batch_id=first.pk)
    assert _queued(tenant) == [(small.pk, 1)]  # before big's second batch


def test_the_sweep_promotes_what_a_lost_promotion_left(emulator, make_app, settings):
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 2
    tenant, _, _ = make_app(users=250)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    # A worker died between its send and its promotion: turns free, nobody promoted.
    NotificationBatch.objects.filter(notification=n, seq__in=(1, 2)).update(
        status=BatchStatus.SENT, task_id=1)
    assert _queued(tenant) == []
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert len(tenants_promote_sweep()) == 1
    assert _queued(tenant) == [(n.pk, 3)]


def test_an_inactive_tenants_batches_wait_and_its_notification_is_held(
        emulator, make_app, settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 1
    tenant, _, _ = make_app(users=250)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant)
    first = NotificationBatch.objects.get(notification=n, seq=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_send(batch_id=first.pk).status == BatchStatus.HELD
    assert _queued(tenant) == []  # nothing promoted for a suspended tenant
    n.refresh_from_db()
    assert n.status == Notification.Status.HELD
    with django_capture_on_commit_callbacks(execute=True):
        tenant_resume(tenant=tenant)
    n.refresh_from_db()
    assert n.status == Notification.Status.SENDING
    assert _queued(tenant) == [(n.pk, 1)]
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_send(batch_id=first.pk).status == BatchStatus.SENT


def test_a_notification_held_before_planning_is_planned_on_resume(
        emulator, make_app, django_capture_on_commit_callbacks):
    tenant, corp, _ = make_app(users=5)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant)
    n = create_and_plan(tenant, userids=corp["userids"][:2], msg=text("later"))
    assert n.status == Notification.Status.HELD and n.planned_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tenant_resume(tenant=tenant)
    n.refresh_from_db()
    assert n.status == Notification.Status.ACCEPTED and callbacks  # its planning queued


def test_throttled_sends_give_up_after_max_attempts(emulator, make_app, settings):
    settings.MESSAGING_SEND_MAX_ATTEMPTS = 3
    tenant, _, _ = make_app(users=5)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    emulator.add_fault(_SEND, errcode=90018)
    (batch,) = NotificationBatch.objects.filter(notification=n)
    for attempt in (1, 2):
        batch = batch_send(batch_id=batch.pk)
        assert batch.status == BatchStatus.PENDING and batch.attempts == attempt
        clock.advance((batch.next_attempt_at - clock.now()).total_seconds() + 0.1)
    batch = batch_send(batch_id=batch.pk)
    assert batch.status == BatchStatus.FAILED and "gave up after 3 tries" in batch.last_error
    n.refresh_from_db()
    assert n.status == Notification.Status.FAILED


def test_a_limiter_refusal_is_pacing_not_an_attempt(emulator, make_app, settings):
    tenant, _, _ = make_app(users=250)
    settings.MESSAGING_LIMIT_OVERRIDES = {tenant.appkey: {
        "MESSAGING_LIMIT_APP_CORP_PER_MINUTE": 100}}
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    first, second = NotificationBatch.objects.filter(notification=n).order_by("seq")[:2]
    batch_send(batch_id=first.pk)
    refused = batch_send(batch_id=second.pk)
    assert refused.status == BatchStatus.PENDING and refused.attempts == 0
    assert refused.next_attempt_at > clock.now() + timedelta(seconds=50)


def _suite_tenant(emulator, suite, users: int):
    corp = emulator.create_corp(users=users)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    return TenantFactory(suite=suite, corp_id=corp["corp_id"], agent_id=auth["agent_id"],
                         app_id=auth["app_id"]), corp


def test_the_tenant_that_sent_least_gets_the_shared_budget_first(emulator, make_suite,
                                                                  settings):
    """Two tenants of one suite, the suite's per-minute total spent by the first: both are
    refused, and the one that sent nothing is due again before the one that sent it all
    (MESSAGING_FAIRNESS_DELAY_S in proportion to each one's own share)."""
    settings.MESSAGING_FAIRNESS_DELAY_S = 1.5
    settings.MESSAGING_LIMIT_SMOOTH_S = 0  # the per-minute total alone binds here
    suite, _ = make_suite()
    settings.MESSAGING_LIMIT_OVERRIDES = {suite.suite_key: {
        "MESSAGING_LIMIT_SUITE_PER_MINUTE": 200}}
    emulator.set_config(notices={"per_minute_suite": 100_000})
    big, big_corp = _suite_tenant(emulator, suite, users=300)
    small, small_corp = _suite_tenant(emulator, suite, users=5)
    n = create_and_plan(big, userids=big_corp["userids"][:300], msg=text("big"))
    first, second, third = NotificationBatch.objects.filter(notification=n).order_by("seq")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert batch_send(batch_id=first.pk).status == BatchStatus.SENT
        assert batch_send(batch_id=second.pk).status == BatchStatus.SENT
    refused_big = batch_send(batch_id=third.pk)
    m = create_and_plan(small, userids=small_corp["userids"][:3], msg=text("small"))
    (small_batch,) = NotificationBatch.objects.filter(notification=m)
    refused_small = batch_send(batch_id=small_batch.pk)
    assert refused_big.status == refused_small.status == BatchStatus.PENDING
    assert "notice:suite:" in refused_big.last_error
    lead = (refused_big.next_attempt_at - refused_small.next_attempt_at).total_seconds()
    assert 1.3 <= lead <= 1.6  # the full 1.5 s for the tenant that took the whole budget


def test_no_tenant_takes_the_suites_minute_in_a_burst(emulator, make_suite, settings):
    """The suite's per-minute total is also kept over a few seconds (smooth_rule): once the big
    tenant's batch fills the short window, its next batch waits seconds, not a minute, and
    another tenant's small send is due again before it (the fairness delay)."""
    settings.MESSAGING_LIMIT_SMOOTH_S = 6
    settings.MESSAGING_FAIRNESS_DELAY_S = 60  # x (100/1,220)^2: 0.4 s, visible at ms grain
    suite, _ = make_suite()
    settings.MESSAGING_LIMIT_OVERRIDES = {suite.suite_key: {
        "MESSAGING_LIMIT_SUITE_PER_MINUTE": 1220}}  # smooth: one batch of 100 per 5 s
    emulator.set_config(notices={"per_minute_suite": 100_000})
    big, big_corp = _suite_tenant(emulator, suite, users=300)
    small, small_corp = _suite_tenant(emulator, suite, users=5)
    n = create_and_plan(big, userids=big_corp["userids"][:300], msg=text("big"))
    first, second, _ = NotificationBatch.objects.filter(notification=n).order_by("seq")
    assert batch_send(batch_id=first.pk).status == BatchStatus.SENT
    refused = batch_send(batch_id=second.pk)
    assert refused.status == BatchStatus.PENDING
    assert f"notice:suite:{suite.suite_key}:smooth" in refused.last_error
    m = create_and_plan(small, userids=small_corp["userids"][:3], msg=text("small"))
    (small_batch,) = NotificationBatch.objects.filter(notification=m)
    waiting = batch_send(batch_id=small_batch.pk)
    big_wait = (refused.next_attempt_at - clock.now()).total_seconds()
    small_wait = (waiting.next_attempt_at - clock.now()).total_seconds()
    assert small_wait < big_wait < 6  # seconds, not the rest of the minute
    assert 0.3 < big_wait - small_wait < 0.5  # the delay x the big tenant's share squared
