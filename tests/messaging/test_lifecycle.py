"""Tenant lifecycle signals move unsent batches: held ones resume, a relief cancels them."""

import pytest

from messaging.models import LedgerEntry, NotificationBatch, Recipient
from messaging.services.sending import batch_send
from tenants.services.tenants import (
    tenant_relieve,
    tenant_resume,
    tenant_set_app_state,
    tenant_suspend,
)
from tests.messaging.notification_support import create_and_plan, text
from tests.tenants.conftest import authorized_tenant

pytestmark = pytest.mark.django_db

BatchStatus = NotificationBatch.Status


def _batch(notification) -> NotificationBatch:
    return NotificationBatch.objects.get(notification=notification)


def test_lifecycle_a_held_batch_resumes_when_the_tenant_does(
        emulator, make_app, django_capture_on_commit_callbacks):
    tenant, corp, _ = make_app(users=4)
    n = create_and_plan(tenant, userids=corp["userids"][:2], msg=text("held"))
    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant)
    assert batch_send(batch_id=_batch(n).pk).status == BatchStatus.HELD
    with django_capture_on_commit_callbacks(execute=True):
        tenant_resume(tenant=tenant)
    assert _batch(n).status == BatchStatus.PENDING
    assert batch_send(batch_id=_batch(n).pk).status == BatchStatus.SENT


def test_lifecycle_a_stopped_suite_tenant_resumes_on_restore(
        emulator, make_suite, django_capture_on_commit_callbacks):
    tenant, corp = authorized_tenant(emulator, make_suite)
    n = create_and_plan(tenant, userids=corp["userids"][:2], msg=text("stop"))
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_app_state(suite=tenant.suite, corp_id=tenant.corp_id, action="stop")
    assert batch_send(batch_id=_batch(n).pk).status == BatchStatus.HELD
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_app_state(suite=tenant.suite, corp_id=tenant.corp_id, action="restore")
    assert _batch(n).status == BatchStatus.PENDING


def test_lifecycle_a_relieved_tenants_unsent_batches_are_cancelled(
        emulator, make_suite, django_capture_on_commit_callbacks):
    tenant, corp = authorized_tenant(emulator, make_suite)
    n = create_and_plan(tenant, userids=corp["userids"][:3], msg=text("bye"))
    assert LedgerEntry.objects.filter(tenant=tenant).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    assert _batch(n).status == BatchStatus.CANCELLED
    assert set(Recipient.objects.filter(notification=n).values_list("outcome", flat=True)) == {
        Recipient.Outcome.CANCELLED}
    assert not LedgerEntry.objects.filter(tenant=tenant).exists()
    before = emulator.counters()["calls"]
    assert batch_send(batch_id=_batch(n).pk) is None  # nothing left to send
    assert emulator.counters()["calls"] == before
