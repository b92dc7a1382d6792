"""notification_finished: sent once, after the commit, wherever a notification finishes."""

import pytest

from messaging.models import Notification
from messaging.services.notifications import notification_cancel, notification_create
from messaging.signals import notification_finished
from tests.messaging.notification_support import text
from tests.tenants.factories import InternalAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    got = []

    def receiver(sender, notification, **kwargs):
        got.append((notification.pk, notification.status))

    notification_finished.connect(receiver, dispatch_uid="test_finishing")
    yield got
    notification_finished.disconnect(dispatch_uid="test_finishing")


def test_finishing_a_cancel_is_heard_once_after_commit(heard, django_capture_on_commit_callbacks):
    tenant = InternalAppFactory()
    with django_capture_on_commit_callbacks(execute=True):
        n = notification_create(tenant=tenant, userids=["u1", "u2"], msg=text("bye"))
    assert heard == []
    with django_capture_on_commit_callbacks(execute=False) as pending:
        notification_cancel(notification=n)
    assert heard == []  # nothing before the commit
    for callback in pending:
        callback()
    assert heard == [(n.pk, Notification.Status.CANCELLED)]


def test_finishing_a_failing_receiver_does_not_break_the_cancel(
        heard, django_capture_on_commit_callbacks):
    def broken(sender, notification, **kwargs):
        raise RuntimeError("receiver bug")

    notification_finished.connect(broken, dispatch_uid="test_finishing_broken")
    try:
        tenant = InternalAppFactory()
        with django_capture_on_commit_callbacks(execute=True):
            n = notification_create(tenant=tenant, userids=["u1"], msg=text("x"))
            notification_cancel(notification=n)
    finally:
        notification_finished.disconnect(dispatch_uid="test_finishing_broken")
    assert Notification.objects.get(pk=n.pk).status == Notification.Status.CANCELLED
    assert heard == [(n.pk, Notification.Status.CANCELLED)]


def test_finishing_settling_to_completed_is_heard(heard, django_capture_on_commit_callbacks):
    from core import clock
    from messaging.models import NotificationBatch, Recipient
    from messaging.services.settling import notification_settle

    tenant = InternalAppFactory()
    n = Notification.objects.create(tenant=tenant, userids=["u1"], msg=text("x"),
                                    status=Notification.Status.SENT, planned_at=clock.now())
    batch = NotificationBatch.objects.create(notification=n, tenant=tenant, seq=1,
                                             userids=["u1"], status=NotificationBatch.Status.DONE,
                                             task_id=123)
    Recipient.objects.create(notification=n, tenant=tenant, userid="u1", batch=batch,
                             outcome=Recipient.Outcome.READ)
    with django_capture_on_commit_callbacks(execute=True):
        notification_settle(notification_id=n.pk)
    assert heard == [(n.pk, Notification.Status.COMPLETED)]
    with django_capture_on_commit_callbacks(execute=True):
        notification_settle(notification_id=n.pk)  # already final: nothing more
    assert len(heard) == 1
