"""Webhook events: who hears what (owner, subscribed types, active), lifecycle signals recorded
once per committed change, and the scan of finished notifications (once per notification and
type, read back an overlap behind its watermark)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.models import WebhookDelivery, WebhookEvent, WebhookScanMark
from api.services.webhooks import webhook_endpoint_create
from api.services.webhooks_events import notification_events_scan, webhook_event_record
from core import clock
from dingtalk.isv import AuthInfo
from messaging.models import Notification
from messaging.signals import notification_finished
from tenants import signals
from tenants.models import Tenant
from tenants.services.tenants import tenant_authorize, tenant_set_app_state
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks"


def _notification(tenant, status: str, completed_ago_s: float | None = 0) -> Notification:
    completed = (clock.now() - timedelta(seconds=completed_ago_s)
                 if completed_ago_s is not None else None)
    return Notification.objects.create(
        tenant=tenant, request_digest="d" * 64, content_digest="c" * 64, userids=["u1"],
        msg={"msgtype": "text", "text": {"content": "x"}}, status=status, recipient_count=1,
        counts={"unread": 1}, completed_at=completed)


def test_webhooks_events_reach_only_their_owners_active_subscribed_endpoints():
    suite, other_suite = SuiteFactory(), SuiteFactory()
    app = InternalAppFactory()
    all_types = webhook_endpoint_create(suite=suite, url=URL).endpoint
    relieved_only = webhook_endpoint_create(suite=suite, url=URL,
                                            events=["tenant.relieved"]).endpoint
    webhook_endpoint_create(suite=suite, url=URL, is_active=False)
    webhook_endpoint_create(suite=other_suite, url=URL)
    webhook_endpoint_create(app=app, url=URL)
    tenant = TenantFactory(suite=suite)
    event = webhook_event_record(event_type="tenant.changed", tenant=tenant, data={})
    assert [d.endpoint_id for d in event.deliveries.all()] == [all_types.pk]
    event = webhook_event_record(event_type="tenant.relieved", tenant=tenant, data={})
    assert {d.endpoint_id for d in event.deliveries.all()} == {all_types.pk, relieved_only.pk}
    assert webhook_event_record(event_type="tenant.changed", tenant=TenantFactory(),
                                data={}) is None  # a suite with no endpoint: nothing recorded


def test_webhooks_lifecycle_signal_twice_for_one_change_records_one_event(
        django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    webhook_endpoint_create(suite=suite, url=URL)
    info = AuthInfo.from_body({"auth_corp_info": {"corpid": "dingOnce", "corp_name": "Acme"},
                               "auth_info": {"agent": [{"agentid": 1, "appid": 2}]}})
    with django_capture_on_commit_callbacks(execute=True):
        tenant = tenant_authorize(suite=suite, info=info, timestamp_ms=1)
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == [
        "tenant.authorized"]
    signals.tenant_authorized.send(sender=Tenant, tenant=tenant)  # a repeated signal
    assert WebhookEvent.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_app_state(suite=suite, corp_id="dingOnce", action="stop", timestamp_ms=2)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_set_app_state(suite=suite, corp_id="dingOnce", action="restore", timestamp_ms=3)
    events = list(WebhookEvent.objects.order_by("pk"))
    assert [e.event_type for e in events] == ["tenant.authorized", "tenant.app_stopped",
                                              "tenant.app_restored"]
    assert events[1].payload["data"]["tenant"]["status"] == "app_stopped"
    assert events[1].payload["id"] == str(events[1].event_id)
    assert WebhookDelivery.objects.count() == 3


def test_webhooks_scan_records_each_finished_notification_once():
    app, unheard = InternalAppFactory(), InternalAppFactory()
    webhook_endpoint_create(app=app, url=URL)
    done = _notification(app, Notification.Status.COMPLETED)
    partly = _notification(app, Notification.Status.PARTIALLY_FAILED)
    failed = _notification(app, Notification.Status.FAILED)
    _notification(app, Notification.Status.CANCELLED)
    _notification(app, Notification.Status.SENDING, completed_ago_s=None)
    _notification(unheard, Notification.Status.COMPLETED)
    assert notification_events_scan() == 3
    got = {e.notification_id: e.event_type for e in WebhookEvent.objects.all()}
    assert got == {done.pk: "notification.completed", partly.pk: "notification.completed",
                   failed.pk: "notification.failed"}
    payload = WebhookEvent.objects.get(notification=partly).payload
    assert payload["data"]["notification"]["status"] == "partially_failed"
    assert payload["data"]["notification"]["counts"] == {"unread": 1}
    assert notification_events_scan() == 0
    assert WebhookDelivery.objects.count() == 3


def test_webhooks_scan_hears_only_subscribed_types_and_suite_tenants_through_their_suite():
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    webhook_endpoint_create(suite=suite, url=URL, events=["notification.failed"])
    _notification(tenant, Notification.Status.COMPLETED)
    failed = _notification(tenant, Notification.Status.FAILED)
    assert notification_events_scan() == 1
    assert WebhookEvent.objects.get().notification_id == failed.pk


def test_webhooks_scan_reads_an_overlap_behind_its_watermark(settings):
    settings.API_WEBHOOK_SCAN_OVERLAP_S = 300
    app = InternalAppFactory()
    webhook_endpoint_create(app=app, url=URL)
    notification_events_scan()
    mark = WebhookScanMark.objects.get().mark
    assert abs((mark - clock.now()).total_seconds()) < 5
    # Committed late: stamped before the last scan started, within the overlap.
    late = _notification(app, Notification.Status.COMPLETED, completed_ago_s=200)
    # Older than watermark minus overlap: the scan no longer reads that far back.
    _notification(app, Notification.Status.COMPLETED, completed_ago_s=400)
    assert notification_events_scan() == 1
    assert WebhookEvent.objects.get().notification_id == late.pk


def test_webhooks_scan_a_full_page_holds_the_watermark_at_its_last_read(settings):
    app = InternalAppFactory()
    webhook_endpoint_create(app=app, url=URL)
    notification_events_scan()
    for ago in (30, 20, 10):
        _notification(app, Notification.Status.COMPLETED, completed_ago_s=ago)
    advance_s = settings.API_WEBHOOK_SCAN_OVERLAP_S * 3
    clock.advance(advance_s)  # much later: only the watermark keeps them in reach
    WebhookScanMark.objects.update(mark=clock.now() - timedelta(seconds=advance_s + 40))
    assert notification_events_scan(limit=2) == 2
    assert notification_events_scan(limit=2) == 1
    assert notification_events_scan(limit=2) == 0


def test_webhooks_fast_path_a_saved_finish_is_recorded_after_commit_without_the_scan(
        django_capture_on_commit_callbacks):
    app = InternalAppFactory()
    webhook_endpoint_create(app=app, url=URL)
    n = _notification(app, Notification.Status.SENT, completed_ago_s=None)
    n.status, n.completed_at = Notification.Status.FAILED, clock.now()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        n.save(update_fields=["status", "completed_at"])
    assert callbacks  # recorded after the commit, not inside the saving transaction
    assert WebhookEvent.objects.get(notification=n).event_type == "notification.failed"
    with django_capture_on_commit_callbacks(execute=True):
        n.save(update_fields=["last_error"])  # not a status change: nothing more
    assert notification_events_scan() == 0
    assert WebhookEvent.objects.count() == 1


def test_webhooks_notification_finished_signal_is_heard_once_sent():
    app = InternalAppFactory()
    webhook_endpoint_create(app=app, url=URL)
    n = _notification(app, Notification.Status.COMPLETED)
    notification_finished.send(sender=Notification, notification=n)
    notification_finished.send(sender=Notification, notification=n)
    assert WebhookEvent.objects.filter(notification=n).count() == 1
    assert notification_events_scan() == 0


def test_webhooks_scan_without_any_active_endpoint_reads_nothing_and_moves_on():
    app = InternalAppFactory()
    endpoint = webhook_endpoint_create(app=app, url=URL, is_active=False).endpoint
    _notification(app, Notification.Status.COMPLETED, completed_ago_s=10)
    assert notification_events_scan() == 0
    assert abs((WebhookScanMark.objects.get().mark - clock.now()).total_seconds()) < 5
    endpoint.is_active = True
    endpoint.save()
    # Within the overlap: heard once someone listens.
    assert notification_events_scan() == 1
