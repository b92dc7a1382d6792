"""A worker SIGKILLed in the middle of a send: its request reached DingTalk, its answer never
came back. Nothing is lost (the sweep takes the batch back once the lease runs out) and nobody
gets the message twice (the batch is UNKNOWN, never resent blindly; its one same-day resend is
dropped by DingTalk's identical-content rule for everyone the first send reached)."""

import os
import signal
import uuid
from datetime import timedelta

import pytest
import redis
from celery import Celery

from core import clock
from messaging.models import Notification, NotificationBatch, Recipient
from messaging.services.polling import batch_poll
from messaging.services.sending import batch_send, batches_sweep
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, outcomes, text, to_morning
from tests.tenants.conftest import doomed_worker, redis_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BatchStatus = NotificationBatch.Status
Outcome = Recipient.Outcome
_SEND = "topapi/message/corpconversation/asyncsend_v2"
_BROKER_DB = 14


def _batch(n: Notification) -> NotificationBatch:
    return NotificationBatch.objects.get(notification=n)


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
        emulator, make_app, settings, tmp_path):
    to_morning(emulator)
    tenant, _, _ = make_app(users=12)
    # Planned with no send window, so no send task is published anywhere (a session worker
    # of another test could take it); the batch's turn is given by hand, as the promotion
    # would, and its send goes to the doomed worker alone.
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 0
    n = create_and_plan(tenant, to_all_user=True, msg=text("kill -9"))
    settings.MESSAGING_SEND_WINDOW_PER_TENANT = 2
    NotificationBatch.objects.filter(notification=n).update(queued_at=clock.now())
    batch = _batch(n)
    delivered_before = emulator.counters()["recipients"].get("delivered", 0)
    # DingTalk takes its time answering: the worker dies while it waits.
    # (Long enough that the kill lands inside it even on a loaded machine.)
    fault = emulator.add_fault(_SEND, latency_ms=8000, count=1)

    queue = f"doomed-send-{uuid.uuid4().hex[:8]}"
    worker = doomed_worker(queue, tmp_path / "doomed.log", emulator.base_url, _BROKER_DB)
    producer = Celery(broker=redis_url(_BROKER_DB), set_as_current=False)
    try:
        producer.send_task("messaging.batch_send", args=[batch.pk], queue=queue)
        wait_for(lambda: NotificationBatch.objects.filter(
            pk=batch.pk, status=BatchStatus.SENDING).exists(), timeout=60,
            what="the doomed worker to claim the batch")
        wait_for(lambda: [f["fired"] for f in emulator.faults() if f["id"] == fault["id"]]
                 == [1], timeout=30, what="the doomed worker's send to reach DingTalk")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.Redis.from_url(redis_url(_BROKER_DB)).delete(queue)
        producer.close()
    # The request had left: DingTalk delivers it though nobody hears the answer.
    wait_for(lambda: emulator.counters()["recipients"].get("delivered", 0)
             > delivered_before, timeout=40, what="the emulator to deliver the first send")
    first_delivery = emulator.counters()["recipients"]["delivered"] - delivered_before
    assert first_delivery == len(batch.userids)

    pending_after = timedelta(seconds=settings.MESSAGING_SWEEP_PENDING_AFTER_S)
    assert batches_sweep(pending_after=pending_after) == []  # the dead worker's lease holds
    assert _batch(n).status == BatchStatus.SENDING
    advance_time(emulator, settings.MESSAGING_SEND_LEASE_S + 1)
    batches_sweep(pending_after=pending_after)
    lost = _batch(n)
    assert lost.status == BatchStatus.UNKNOWN and lost.task_id is None
    assert {o for o, _ in outcomes(n).values()} - {Outcome.INACTIVE} == {Outcome.UNKNOWN}

    # Another worker (this process) finishes it: one same-day resend, then its outcomes.
    advance_time(emulator, settings.MESSAGING_UNKNOWN_RESEND_AFTER_S + 1)
    batches_sweep(pending_after=pending_after)
    assert _batch(n).queued_at is not None
    batch_send(batch_id=batch.pk)  # (None if a live worker of the session took it first)
    wait_for(lambda: _batch(n).task_id is not None, timeout=30, what="the resend")
    advance_time(emulator, 2)
    batch_poll(batch_id=batch.pk)
    wait_for(lambda: {o for o, _ in outcomes(n).values()} - {Outcome.INACTIVE}
             == {Outcome.DUPLICATE}, timeout=30, what="the resend's outcomes")
    assert emulator.counters()["calls"][_SEND] == 2
    # Each user got the message exactly once: the resend delivered to nobody.
    assert emulator.counters()["recipients"]["delivered"] - delivered_before == len(
        batch.userids)
    n.refresh_from_db()
    assert n.status == Notification.Status.COMPLETED
