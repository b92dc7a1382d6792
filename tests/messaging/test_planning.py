"""Planning: the audience expanded live at the emulator, recipients and batches written."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_create
from messaging.services.planning import notification_plan, notifications_sweep
from tests.conftest import advance_time
from tests.messaging.notification_support import (
    create_and_plan,
    org,
    outcomes,
    subtree_users,
    text,
)
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

Outcome = Recipient.Outcome


def _dept_with_children(emulator, corp_id: str) -> int:
    children, _ = org(emulator, corp_id)
    return next(d for d, kids in sorted(children.items()) if d != 1 and kids)


def test_planning_expands_a_department_and_accounts_for_everyone(emulator, make_app):
    tenant, corp, _ = make_app(users=120)
    dept = _dept_with_children(emulator, corp["corp_id"])
    expected = subtree_users(emulator, corp["corp_id"], dept)
    named = next(u for u in corp["userids"] if u not in expected)
    n = create_and_plan(tenant, userids=[named], dept_ids=[dept], msg=text())
    got = outcomes(n)
    assert set(got) == set(expected) | {named}
    for userid, active in expected.items():
        assert got[userid][0] == (Outcome.PENDING if active else Outcome.INACTIVE)
    assert n.status == Notification.Status.SENDING and n.dept_errors == []
    assert n.recipient_count == len(got) and sum(n.counts.values()) == len(got)
    batched = [u for b in NotificationBatch.objects.filter(notification=n) for u in b.userids]
    assert sorted(batched) == sorted(u for u, (o, _) in got.items() if o == Outcome.PENDING)
    assert batched[0] == named  # named users first


def test_planning_to_all_user_is_expanded_from_the_root(emulator, make_app):
    tenant, corp, _ = make_app(users=40)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    assert set(outcomes(n)) == set(corp["userids"])
    native = create_and_plan(tenant, to_all_user=True, to_all_user_native=True, msg=text("n"))
    assert not Recipient.objects.filter(notification=native).exists()
    assert [b.userids for b in native.batches.all()] == [[]]


def test_planning_records_unreadable_departments_with_their_errcode(emulator, make_suite,
                                                                    make_app):
    suite, _ = make_suite()
    corp = emulator.create_corp(users=120)
    children, _ = org(emulator, corp["corp_id"])
    readable, outside = children[1][:2]
    auth = emulator.authorize(suite.suite_key, corp["corp_id"], authed_dept=[readable])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"], agent_id=auth["agent_id"],
                           app_id=auth["app_id"])
    n = create_and_plan(tenant, dept_ids=[readable, outside], msg=text())
    assert [(e["dept_id"], e["errcode"]) for e in n.dept_errors] == [(outside, 50004)]
    assert set(outcomes(n)) == set(subtree_users(emulator, corp["corp_id"], readable))
    # An internal app naming a department that does not exist: 60003, and nobody to send to.
    app, _, _ = make_app(users=3)
    gone = create_and_plan(app, dept_ids=[987654321], msg=text())
    assert [(e["dept_id"], e["errcode"]) for e in gone.dept_errors] == [(987654321, 60003)]
    assert gone.status == Notification.Status.FAILED


def test_planning_1000_recipients_in_10_batches_in_bounded_queries(emulator, make_app):
    tenant, _, _ = make_app(users=1)
    userids = [f"user{i:04d}" for i in range(1000)]
    n = notification_create(tenant=tenant, userids=userids, msg=text())
    with CaptureQueriesContext(connection) as queries:
        n = notification_plan(notification_id=n.pk)
    assert len(queries) <= 20, [q["sql"][:120] for q in queries]
    batches = list(NotificationBatch.objects.filter(notification=n).order_by("seq"))
    assert [b.seq for b in batches] == list(range(1, 11))
    assert [u for b in batches for u in b.userids] == userids
    assert all(len(b.userids) == 100 for b in batches)
    assert Recipient.objects.filter(notification=n, batch__isnull=False).count() == 1000
    assert n.counts == {Outcome.PENDING: 1000}


def test_planning_runs_once_and_transport_failures_are_retried(emulator, make_app, settings):
    tenant, corp, _ = make_app(users=30)
    n = notification_create(tenant=tenant, dept_ids=[1], msg=text())
    emulator.add_fault("topapi/v2/department/listsub", http_status=503, count=10)
    retried = notification_plan(notification_id=n.pk)
    assert retried.status == Notification.Status.ACCEPTED and "ServerError" in retried.last_error
    assert not Recipient.objects.filter(notification=n).exists()
    assert notification_plan(notification_id=n.pk) is None  # its backoff is not over
    emulator.clear_faults()
    advance_time(emulator, settings.MESSAGING_PLAN_RETRY_MAX_S)
    done = notification_plan(notification_id=n.pk)
    assert done.status == Notification.Status.SENDING and done.plan_attempts == 2
    assert set(outcomes(done)) == set(corp["userids"])
    assert notification_plan(notification_id=n.pk) is None  # planned once


def test_planning_sweep_requeues_lost_and_dead_runs(emulator, make_app, settings):
    from datetime import timedelta

    tenant, _, _ = make_app(users=2)
    lost = notification_create(tenant=tenant, userids=["u1"], msg=text("lost"))
    fresh = notification_create(tenant=tenant, userids=["u1"], msg=text("fresh"))
    Notification.objects.filter(pk=lost.pk).update(
        next_attempt_at=lost.next_attempt_at - timedelta(minutes=5))
    dead = notification_create(tenant=tenant, userids=["u1"], msg=text("dead"))
    Notification.objects.filter(pk=dead.pk).update(
        status=Notification.Status.PLANNING, lease_expires_at=dead.created_at)
    queued = notifications_sweep(pending_after=timedelta(seconds=20))
    assert set(queued) == {lost.pk, dead.pk} and fresh.pk not in queued
    assert notification_plan(notification_id=dead.pk).status == Notification.Status.SENDING
