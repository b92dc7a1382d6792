"""A worker SIGKILLed in the middle of a delivery: its request reached the receiver, the answer
never came back. The delivery is not lost: once its lease runs out the sweep queues it again and
the same event (same event id) is delivered again (at least once; the receiver dedupes)."""

from __future__ import annotations

import json
import os
import signal
import uuid

import pytest
import redis
from celery import Celery

from api.models import WebhookDelivery, WebhookEvent
from api.services.webhooks import webhook_endpoint_create
from api.services.webhooks_delivery import webhook_deliveries_sweep, webhook_delivery_attempt
from core import clock
from tests.api.webhooks_receiver import receivers_running
from tests.conftest import advance_time
from tests.tenants.conftest import doomed_worker, redis_url, wait_for
from tests.tenants.factories import TenantFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

_BROKER_DB = 14


def test_webhooks_a_worker_killed_mid_delivery_loses_nothing(settings, tmp_path):
    with receivers_running() as make_receiver:
        # The first answer takes long enough that the kill lands inside it on a loaded machine.
        receiver = make_receiver(delays=[8])
        tenant = TenantFactory()
        endpoint = webhook_endpoint_create(suite=tenant.suite, url=receiver.url).endpoint
        now = clock.now()
        event = WebhookEvent.objects.create(event_type="tenant.changed", tenant=tenant,
                                            payload={"id": "x"}, created_at=now)
        # Made by hand, so no task for it goes to a session worker another test started.
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint,
                                                  next_attempt_at=now, queued_at=now,
                                                  created_at=now)
        queue = f"doomed-webhook-{uuid.uuid4().hex[:8]}"
        worker = doomed_worker(queue, tmp_path / "doomed.log", "http://127.0.0.1:9", _BROKER_DB)
        producer = Celery(broker=redis_url(_BROKER_DB), set_as_current=False)
        try:
            producer.send_task("api.webhook_deliver", args=[delivery.pk], queue=queue)
            wait_for(lambda: receiver.count() == 1, timeout=60,
                     what="the doomed worker's request to reach the receiver")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
            redis.Redis.from_url(redis_url(_BROKER_DB)).delete(queue)
            producer.close()
        held = WebhookDelivery.objects.get(pk=delivery.pk)
        assert held.status == WebhookDelivery.Status.PENDING and held.attempts == 1
        assert held.lease_expires_at is not None and not held.attempt_rows.exists()
        assert webhook_deliveries_sweep() == 0  # the dead worker's lease still holds
        advance_time(None, settings.API_WEBHOOK_LEASE_S + 1)
        assert webhook_deliveries_sweep() == 1
        webhook_delivery_attempt(delivery_id=delivery.pk)  # None if a session worker took it
        done = wait_for(lambda: WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.SUCCESS).first(), timeout=30,
            what="the redelivery")
        assert done.attempts == 2 and done.attempt_rows.count() == 1
        assert receiver.count() == 2
        first, second = receiver.received
        assert first.headers["X-Dingsuite-Event-Id"] == second.headers["X-Dingsuite-Event-Id"]
        assert json.loads(first.body) == json.loads(second.body) == {"id": "x"}
