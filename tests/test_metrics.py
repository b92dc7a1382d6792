"""/metrics: counters as things happen, gauges read at scrape time, an optional bearer token."""

import uuid
from datetime import timedelta

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from core import clock
from messaging.models import Notification
from tenants.models import CallbackEvent
from tests.tenants.factories import CallbackEventFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _samples(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_callbacks_are_counted_by_outcome(client):
    suite = SuiteFactory()
    before = _value(_samples(client), "dingsuite_callbacks_total", owner="suite", kind="",
                    outcome="callback_bad_signature")
    response = client.post(f"/callbacks/{suite.suite_key}/?signature=bad&timestamp=1&nonce=n",
                           data='{"encrypt": "AAAA"}', content_type="application/json")
    assert response.status_code in (400, 403)
    assert _value(_samples(client), "dingsuite_callbacks_total", owner="suite", kind="",
                  outcome="callback_bad_signature") == before + 1


def test_metrics_gauges_read_the_database(client):
    suite = SuiteFactory()
    for status in ("done", "done", "dead"):
        CallbackEventFactory(suite=suite, status=status)
    stuck = CallbackEventFactory(suite=suite, status=CallbackEvent.Status.PENDING)
    CallbackEvent.objects.filter(pk=stuck.pk).update(
        next_attempt_at=clock.now() - timedelta(minutes=5))
    tenant = TenantFactory(suite=suite)
    Notification.objects.create(tenant=tenant, userids=["u1", "u2", "u3"],
                                msg={"msgtype": "text", "text": {"content": "x"}},
                                status="completed", counts={"read": 2, "unread": 1})
    samples = _samples(client)
    assert _value(samples, "dingsuite_callback_events", status="done") == 2
    assert _value(samples, "dingsuite_callback_events", status="dead") == 1
    assert _value(samples, "dingsuite_notifications_24h", status="completed") == 1
    assert _value(samples, "dingsuite_recipients_24h", outcome="read") == 2
    assert 290 <= _value(samples, "dingsuite_oldest_waiting_seconds",
                         kind="callback_event") <= 400


def test_metrics_queue_lengths_on_a_redis_broker(client, settings):
    url = (settings.REDIS_URL or "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    prefix = f"metrics-test-{uuid.uuid4().hex[:8]}-"
    settings.CELERY_BROKER_URL, settings.CELERY_QUEUE_PREFIX = url, prefix
    conn = redis.Redis.from_url(url)
    conn.rpush(f"{prefix}sends", "a", "b")
    try:
        samples = _samples(client)
    finally:
        conn.delete(f"{prefix}sends")
    assert _value(samples, "dingsuite_queue_messages", queue=f"{prefix}sends") == 2
    assert _value(samples, "dingsuite_queue_messages", queue=f"{prefix}polls") == 0


def test_metrics_token_when_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert _samples(client, HTTP_AUTHORIZATION="Bearer scrape-secret-123")
