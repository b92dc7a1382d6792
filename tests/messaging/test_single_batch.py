"""Single-batch notifications (the seed's asyncsend_v2): one batch with the audience as given,
DingTalk's list limits, the ledger and limiter as every send, and DingTalk's expansion of the
departments mapped to recipients."""

from unittest import mock

import pytest
from django.test import TestCase

from messaging.errors import AudienceInvalid
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services.notifications import notification_create
from messaging.services.pacing import tenant_sends_promote
from messaging.services.planning import notification_plan
from tests.messaging.notification_support import outcomes, subtree_users, text
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Outcome = Recipient.Outcome
NStatus = Notification.Status
_SEND = "topapi/message/corpconversation/asyncsend_v2"


def create_and_plan(tenant, **kwargs) -> Notification:
    """Create and plan here; the create's planning message is not published (the session's
    worker, once started, would plan it in this test's place). Capturing the on-commit callbacks
    does not hold it back in a transactional test: they run when the create's atomic block
    commits."""
    with mock.patch("messaging.services.notifications.notification_plan_enqueue"):
        n = notification_create(tenant=tenant, **kwargs)
    with TestCase.captureOnCommitCallbacks(execute=False):
        return notification_plan(notification_id=n.pk)


def _a_department(emulator, corp_id: str, *, named: set[str]) -> tuple[int, dict[str, bool]]:
    """A top-level department with members, none of them in `named`."""
    info = emulator.get_corp(corp_id)
    for dept in info["departments"]:
        if dept.get("parent_id") == 1:
            members = subtree_users(emulator, corp_id, int(dept["id"]))
            if members and not set(members) & named:
                return int(dept["id"]), members
    raise AssertionError("no department without the named users")


def test_single_batch_plans_one_batch_with_the_audience_as_given(emulator, make_app):
    tenant, corp, _ = make_app(users=120)
    named = corp["userids"][:3]
    dept_id, members = _a_department(emulator, corp["corp_id"], named=set(named))
    n = create_and_plan(tenant, userids=named, dept_ids=[dept_id], msg=text("seed"),
                        single_batch=True)
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert batch.userids == named and batch.dept_ids == [dept_id] and not batch.to_all_user
    active = {u for u, ok in members.items() if ok}
    assert batch.audience_size == len(named) + len(active)
    got = outcomes(n)
    assert set(got) == set(named) | set(members)
    assert Recipient.objects.filter(batch=batch).count() == batch.audience_size
    booked = set(LedgerEntry.objects.filter(tenant=tenant).values_list("userid", flat=True))
    assert booked == set(named) | active


def test_single_batch_keeps_dingtalks_list_limits(make_app):
    tenant, _, _ = make_app(users=5)
    with pytest.raises(AudienceInvalid, match="at most 100"):
        notification_create(tenant=tenant, userids=[f"u{i}" for i in range(101)],
                            msg=text(), single_batch=True)
    with pytest.raises(AudienceInvalid, match="at most 20"):
        notification_create(tenant=tenant, dept_ids=list(range(2, 23)), msg=text(),
                            single_batch=True)
    # Without the flag, dingsuite splits them itself: 101 userids are fine.
    assert notification_create(tenant=tenant, userids=[f"u{i}" for i in range(101)],
                               msg=text()).pk
    assert not Notification.objects.filter(single_batch=True).exists()


def test_single_batch_named_users_held_by_the_ledger_are_not_sent(make_app):
    tenant, corp, _ = make_app(users=5)
    users = corp["userids"][:2]
    create_and_plan(tenant, userids=users[:1], msg=text("same"))  # books users[0]
    n = create_and_plan(tenant, userids=users, msg=text("same"), single_batch=True)
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert batch.userids == users[1:]
    assert outcomes(n)[users[0]][0] == Outcome.HELD_BACK
    only_held = create_and_plan(tenant, userids=users[:1], msg=text("same"), single_batch=True)
    assert only_held.status == NStatus.COMPLETED
    assert not NotificationBatch.objects.filter(notification=only_held).exists()


def test_single_batch_is_one_dingtalk_call_and_newcomers_get_outcomes(
        celery_worker, emulator, make_app):
    tenant, corp, _ = make_app(users=60)
    named = corp["userids"][:2]
    dept_id, members = _a_department(emulator, corp["corp_id"], named=set(named))
    n = create_and_plan(tenant, userids=named, dept_ids=[dept_id], msg=text("one call"),
                        single_batch=True)
    # Someone joins the department after planning: DingTalk's expansion reaches them.
    emulator.contact_change(corp["corp_id"], "user_add_org",
                            user={"userid": "newcomer01", "name": "新人", "depts": [dept_id]})
    tenant_sends_promote(tenant_id=tenant.pk)  # the worker sends it now
    done = wait_for(lambda: Notification.objects.filter(
        pk=n.pk, status__in=(NStatus.COMPLETED, NStatus.PARTIALLY_FAILED)).first(),
        timeout=60, what="completion")
    assert emulator.counters()["calls"][_SEND] == 1
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert batch.task_id and batch.request_id
    task = emulator.task(batch.task_id)
    got = outcomes(n)
    assert got["newcomer01"][0] == Outcome.UNREAD
    delivered = set(task["send_result"]["unread_user_id_list"])
    assert {u for u, (o, _) in got.items() if o == Outcome.UNREAD} == delivered
    assert set(named) <= delivered and "newcomer01" in delivered
    assert done.counts[Outcome.UNREAD] == len(delivered)
    assert LedgerEntry.objects.filter(tenant=tenant, userid="newcomer01").exists()


def test_single_batch_to_all_user_sends_dingtalks_own_to_all_user(celery_worker, emulator,
                                                                   make_app):
    tenant, corp, _ = make_app(users=30)
    n = notification_create(tenant=tenant, to_all_user=True, msg=text("everyone"),
                            single_batch=True)
    batch = wait_for(lambda: NotificationBatch.objects.filter(notification=n).first(),
                     timeout=30, what="planning on the worker")
    assert batch.to_all_user and batch.userids == []
    wait_for(lambda: Notification.objects.filter(pk=n.pk, status=NStatus.COMPLETED).exists(),
             timeout=60, what="completion")
    batch.refresh_from_db()
    delivered = set(emulator.task(batch.task_id)["send_result"]["unread_user_id_list"])
    users = emulator.get_corp(corp["corp_id"])["users"]
    assert delivered == {u["userid"] for u in users if u.get("active", True)}
    assert delivered and {u for u, (o, _) in outcomes(n).items()
                          if o == Outcome.UNREAD} == delivered
    assert emulator.counters()["calls"][_SEND] == 1
