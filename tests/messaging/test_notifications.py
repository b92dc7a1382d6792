"""Accepting work notifications: checks first, one row per idempotency key, to_all_user rules."""

import threading

import pytest
from django.db import connections

from messaging.errors import (
    AudienceInvalid,
    IdempotencyConflict,
    MessageApiMismatch,
    MessageInvalid,
    NotificationNotCancellable,
    NotificationNotFound,
    ToAllUserDailyLimit,
    ToAllUserNotForSuites,
)
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.selectors import notification_get
from messaging.services.notifications import notification_cancel, notification_create
from messaging.services.planning import notification_plan
from tenants.models import Suite
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, text
from tests.tenants.conftest import authorized_tenant

pytestmark = pytest.mark.django_db


def test_notifications_create_stores_the_checked_request(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    n = notification_create(tenant=tenant, userids=corp["userids"][:2] + corp["userids"][:1],
                            dept_ids=[1], msg='{"msgtype":"text","text":{"content":"hi"}}')
    assert n.status == Notification.Status.ACCEPTED
    assert n.userids == corp["userids"][:2] and n.dept_ids == [1]  # repeats dropped
    assert n.msg == text("hi") and len(n.content_digest) == 64
    assert notification_get(tenant=tenant, id=n.pk) == n


def test_notifications_idempotency_same_body_first_other_body_conflict(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    users = corp["userids"][:2]
    first = notification_create(tenant=tenant, userids=users, msg=text(), idempotency_key="k1")
    again = notification_create(tenant=tenant, userids=list(reversed(users)), msg=text(),
                                idempotency_key="k1")
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict) as info:
        notification_create(tenant=tenant, userids=users, msg=text("other"),
                            idempotency_key="k1")
    assert info.value.http_status == 409 and info.value.extra["notification_id"] == first.pk
    # The key is per tenant; no key means a new notification every time.
    other, _, _ = make_app(users=2)
    assert notification_create(tenant=other, userids=["x"], msg=text(),
                               idempotency_key="k1").pk != first.pk
    assert notification_create(tenant=tenant, userids=users, msg=text()).pk != first.pk
    assert Notification.objects.filter(tenant=tenant).count() == 2


@pytest.mark.django_db(transaction=True)
def test_notifications_idempotency_race_of_two_threads_makes_one_row(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    barrier = threading.Barrier(2)
    ids, errors = [], []

    def create():
        try:
            barrier.wait(timeout=10)
            ids.append(notification_create(tenant=tenant, userids=corp["userids"][:2],
                                           msg=text(), idempotency_key="race").pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and len(ids) == 2 and ids[0] == ids[1]
    assert Notification.objects.filter(tenant=tenant, idempotency_key="race").count() == 1


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"userids": ["u1"], "msg": {"msgtype": "nope"}}, MessageInvalid),
    ({"userids": ["u1"], "msg": text("x" * 3000)}, MessageInvalid),
    ({"userids": ["u1"], "msg": None}, MessageInvalid),
    ({"msg": text()}, AudienceInvalid),
    ({"userids": [], "dept_ids": [], "msg": text()}, AudienceInvalid),
    ({"userids": "manager01", "msg": text()}, AudienceInvalid),
    ({"userids": ["a,b"], "msg": text()}, AudienceInvalid),
    ({"dept_ids": ["x"], "msg": text()}, AudienceInvalid),
    ({"to_all_user": False, "to_all_user_native": True, "userids": ["u"], "msg": text()},
     AudienceInvalid),
    ({"userids": ["u1"], "msg": text(), "template_id": "tpl"}, MessageApiMismatch),
    ({"userids": [f"u{i}" for i in range(6)], "msg": {"msgtype": "oa", "oa": {
        "message_url": "https://e.x", "head": {"bgcolor": "FFBBBBBB", "text": "h"},
        "body": {"title": "t"}, "status_bar": {"status_value": "v"}}}}, AudienceInvalid),
])
def test_notifications_bad_input_is_refused_with_nothing_written(emulator, make_app, kwargs,
                                                                 error):
    tenant, _, _ = make_app(users=2)
    before = emulator.counters()["calls"]
    with pytest.raises(error):
        notification_create(tenant=tenant, **kwargs)
    assert not Notification.objects.exists()
    assert emulator.counters()["calls"] == before


def test_notifications_to_all_user_refused_for_suites(emulator, make_suite):
    tenant, _ = authorized_tenant(emulator, make_suite)
    with pytest.raises(ToAllUserNotForSuites) as info:
        notification_create(tenant=tenant, to_all_user=True, msg=text())
    assert info.value.code == "to_all_user_internal_apps_only" and "41028" in info.value.message
    assert not Notification.objects.exists()


def test_notifications_template_suites_send_templates_only(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    Suite.objects.filter(pk=tenant.suite_id).update(
        message_api=Suite.MessageApi.SEND_BY_TEMPLATE)
    tenant.refresh_from_db()
    with pytest.raises(MessageApiMismatch):
        notification_create(tenant=tenant, userids=corp["userids"][:1], msg=text())
    with pytest.raises(MessageInvalid):
        notification_create(tenant=tenant, userids=corp["userids"][:1], template_id="tpl")
    n = notification_create(tenant=tenant, userids=corp["userids"][:1], template_id="tpl",
                            template_data={"name": "x"})
    assert (n.msg, n.template_id, n.template_data) == (None, "tpl", {"name": "x"})


def test_notifications_to_all_user_three_a_day_per_corp(emulator, make_app):
    tenant, corp, _ = make_app(users=2)
    for i in range(3):
        notification_create(tenant=tenant, to_all_user=True, msg=text(f"all {i}"),
                            to_all_user_native=True)
    with pytest.raises(ToAllUserDailyLimit) as info:
        notification_create(tenant=tenant, to_all_user=True, msg=text("fourth"))
    assert info.value.http_status == 429
    # Another internal app of the same corp shares the corp's three.
    sibling, _, _ = make_app(corp=corp)
    with pytest.raises(ToAllUserDailyLimit):
        notification_create(tenant=sibling, to_all_user=True, msg=text("fifth"))
    advance_time(emulator, 86_400)
    assert notification_create(tenant=tenant, to_all_user=True, msg=text("next day"))


def test_notifications_get_is_per_tenant(emulator, make_app):
    tenant, _, _ = make_app(users=2)
    other, _, _ = make_app(users=2)
    n = notification_create(tenant=tenant, userids=["u1"], msg=text())
    with pytest.raises(NotificationNotFound):
        notification_get(tenant=other, id=n.pk)


def test_notifications_cancel_before_planning_stops_it(emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    n = notification_create(tenant=tenant, userids=corp["userids"], msg=text())
    assert notification_cancel(notification=n).status == Notification.Status.CANCELLED
    assert notification_plan(notification_id=n.pk) is None  # not claimable any more
    assert not Recipient.objects.filter(notification=n).exists()
    with pytest.raises(NotificationNotCancellable):
        notification_cancel(notification=n)


def test_notifications_cancel_after_planning_cancels_unsent_and_frees_the_ledger(
        emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    n = create_and_plan(tenant, userids=corp["userids"], msg=text())
    assert LedgerEntry.objects.filter(tenant=tenant).count() == 3
    n = notification_cancel(notification=n)
    assert n.status == Notification.Status.CANCELLED
    assert n.counts == {Recipient.Outcome.CANCELLED: 3}
    assert set(NotificationBatch.objects.filter(notification=n).values_list(
        "status", flat=True)) == {NotificationBatch.Status.CANCELLED}
    assert not LedgerEntry.objects.filter(tenant=tenant).exists()
