"""Outbound webhooks end to end on the session's Celery worker: tenant lifecycle changes through
the real services and a notification that completes become signed POSTs to a real local HTTP
receiver; 5xx and lost deliveries are retried by the sweep (time moved, never waited for), 4xx
are not."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from api.models import WebhookDelivery, WebhookEvent
from api.services.webhooks import webhook_endpoint_create
from api.services.webhooks_delivery import webhook_deliveries_sweep
from api.services.webhooks_events import notification_events_scan
from core import clock
from dingtalk.isv import AuthInfo
from messaging.models import Notification
from messaging.services.notifications import notification_create
from tenants.models import Tenant
from tenants.services.tenants import tenant_authorize, tenant_relieve
from tests.api.webhooks_receiver import documented_verify, receivers_running
from tests.conftest import advance_time
from tests.tenants.conftest import wait_for
from tests.tenants.factories import SuiteFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = WebhookDelivery.Status


@pytest.fixture
def make_receiver():
    with receivers_running() as make:
        yield make


def _info(corp_id: str) -> AuthInfo:
    return AuthInfo.from_body({"auth_corp_info": {"corpid": corp_id, "corp_name": "Acme"},
                               "auth_info": {"agent": [{"agentid": 7, "appid": 8}]}})


def _authorized(suite, corp_id: str = "dingHooks") -> Tenant:
    return tenant_authorize(suite=suite, info=_info(corp_id), timestamp_ms=1)


def _delivery(**filters) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(**filters).first()


def _sweep_after(seconds: float) -> None:
    """Move time (this process and the worker) and run the sweep, as beat would."""
    advance_time(None, seconds)
    webhook_deliveries_sweep()


def test_webhooks_lifecycle_events_are_signed_and_verify_with_the_documented_snippet(
        celery_worker, make_receiver):
    receiver = make_receiver()
    suite = SuiteFactory()
    created = webhook_endpoint_create(suite=suite, url=receiver.url)
    _authorized(suite)
    tenant_relieve(suite=suite, corp_id="dingHooks", timestamp_ms=2)
    wait_for(lambda: receiver.count() == 2, timeout=30, what="two deliveries")
    verify = documented_verify()
    # Two deliveries run side by side on the worker: their order is not promised.
    got = sorted(receiver.received, key=lambda r: r.headers["X-Dingsuite-Event"])
    assert [r.headers["X-Dingsuite-Event"] for r in got] == ["tenant.authorized",
                                                           "tenant.relieved"]
    for request in got:
        body = json.loads(request.body)
        assert request.headers["X-Dingsuite-Event-Id"] == body["id"]
        assert body["data"]["tenant"]["corp_id"] == "dingHooks"
        assert verify(created.secret, request.body, request.headers["X-Dingsuite-Signature"])
        # The snippet refuses another secret and a changed body.
        assert not verify("whsec_other", request.body, request.headers["X-Dingsuite-Signature"])
        assert not verify(created.secret, request.body + b" ",
                          request.headers["X-Dingsuite-Signature"])
    assert json.loads(got[1].body)["data"]["tenant"]["status"] == "relieved"
    wait_for(lambda: WebhookDelivery.objects.filter(status=Status.SUCCESS).count() == 2,
             timeout=10, what="both recorded as success")


def test_webhooks_a_5xx_is_retried_with_backoff_until_it_succeeds(celery_worker, make_receiver,
                                                                 settings):
    receiver = make_receiver(statuses=[500, 503])
    suite = SuiteFactory()
    created = webhook_endpoint_create(suite=suite, url=receiver.url)
    _authorized(suite)
    # (attempts counts a claim; an empty lease means the attempt's outcome is recorded)
    first = wait_for(lambda: _delivery(status=Status.RETRYING, attempts=1,
                                       lease_expires_at__isnull=True), timeout=30,
                     what="the first attempt's 500")
    due_in = (first.next_attempt_at - clock.now()).total_seconds()
    assert 0.5 * settings.API_WEBHOOK_RETRY_BASE_S - 1 <= due_in <= \
        settings.API_WEBHOOK_RETRY_BASE_S
    assert webhook_deliveries_sweep() == 0 and receiver.count() == 1  # not due yet
    _sweep_after(settings.API_WEBHOOK_RETRY_BASE_S + 1)
    wait_for(lambda: _delivery(status=Status.RETRYING, attempts=2,
                               lease_expires_at__isnull=True), timeout=30,
             what="the second attempt's 503")
    _sweep_after(2 * settings.API_WEBHOOK_RETRY_BASE_S + 1)
    done = wait_for(lambda: _delivery(status=Status.SUCCESS), timeout=30, what="success")
    assert done.attempts == 3
    assert [a.response_status for a in done.attempt_rows.all()] == [500, 503, 200]
    assert len({r.headers["X-Dingsuite-Event-Id"] for r in receiver.received}) == 1
    verify = documented_verify()
    assert all(verify(created.secret, r.body, r.headers["X-Dingsuite-Signature"])
               for r in receiver.received)


def test_webhooks_a_4xx_fails_at_once_and_is_never_retried(celery_worker, make_receiver,
                                                           settings):
    receiver = make_receiver(statuses=[410])
    suite = SuiteFactory()
    webhook_endpoint_create(suite=suite, url=receiver.url)
    _authorized(suite)
    failed = wait_for(lambda: _delivery(status=Status.FAILED), timeout=30, what="failure")
    assert failed.attempts == 1 and failed.last_error == "HTTP 410"
    assert failed.attempt_rows.get().response_body == "answer 410"
    _sweep_after(settings.API_WEBHOOK_RETRY_MAX_S + settings.API_WEBHOOK_LEASE_S)
    assert receiver.count() == 1


@pytest.mark.parametrize("lost", ["claimed by a worker that died", "message lost"])
def test_webhooks_a_lost_delivery_is_queued_again_by_the_sweep(celery_worker, make_receiver,
                                                              settings, lost):
    receiver = make_receiver()
    suite = SuiteFactory()
    endpoint = webhook_endpoint_create(suite=suite, url=receiver.url).endpoint
    tenant = Tenant.objects.create(suite=suite, corp_id="dingLost")
    now = clock.now()
    event = WebhookEvent.objects.create(event_type="tenant.changed", tenant=tenant,
                                        payload={"type": "tenant.changed"}, created_at=now)
    dead = lost.startswith("claimed")
    WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=now, queued_at=now, created_at=now,
        attempts=1 if dead else 0,
        lease_expires_at=now + timedelta(seconds=settings.API_WEBHOOK_LEASE_S) if dead else None)
    assert webhook_deliveries_sweep() == 0  # a live lease, or queued only just now
    wait = settings.API_WEBHOOK_LEASE_S if dead else settings.API_WEBHOOK_REQUEUE_AFTER_S
    _sweep_after(wait + 1)
    done = wait_for(lambda: _delivery(status=Status.SUCCESS), timeout=30, what="redelivery")
    assert done.attempts == (2 if dead else 1)
    assert receiver.count() == 1


def test_webhooks_notification_completed_is_delivered_once(celery_worker, make_app,
                                                           make_receiver):
    receiver = make_receiver()
    tenant, _, _ = make_app(users=5)
    webhook_endpoint_create(app=tenant, url=receiver.url, events=["notification.completed"])
    n = notification_create(tenant=tenant, to_all_user=True,
                            msg={"msgtype": "text", "text": {"content": "hooks"}})
    wait_for(lambda: Notification.objects.filter(pk=n.pk, status="completed").exists(),
             timeout=60, what="the notification to complete")
    notification_events_scan()  # as beat would (a no-op if the fast path recorded it already)
    wait_for(lambda: receiver.count() >= 1, timeout=30, what="notification.completed")
    body = json.loads(receiver.received[0].body)
    assert body["type"] == "notification.completed"
    assert body["data"]["notification"]["id"] == n.pk
    assert body["data"]["notification"]["status"] == "completed"
    assert body["data"]["notification"]["recipient_count"] == 5
    notification_events_scan()
    assert WebhookEvent.objects.filter(notification=n).count() == 1
    wait_for(lambda: _delivery(status=Status.SUCCESS), timeout=10, what="success")
    assert receiver.count() == 1
