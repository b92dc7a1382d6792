"""Planning end to end: a notification accepted here is planned by a real Celery worker."""

import pytest

from messaging.models import Notification, Recipient
from messaging.services.notifications import notification_create
from tests.messaging.notification_support import subtree_users, text
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_planning_worker_plans_an_accepted_notification(celery_worker, emulator, make_app):
    tenant, corp, _ = make_app(users=50)
    n = notification_create(tenant=tenant, dept_ids=[1], msg=text("from the worker"))
    # The worker goes on to send its batches, so it may be past SENDING already.
    planned = wait_for(lambda: Notification.objects.filter(
        pk=n.pk, planned_at__isnull=False).first(), timeout=30, what="planning")
    expected = subtree_users(emulator, corp["corp_id"], 1)
    assert set(Recipient.objects.filter(notification=n).values_list("userid", flat=True)) == \
        set(expected)
    assert planned.plan_attempts == 1 and planned.planned_at is not None
