"""The sweep makes every waiting status happen: lost messages, dead workers, due retries."""

import os
import signal
import uuid
from datetime import timedelta

import pytest

from core import clock
from tenants.models import CallbackEvent
from tenants.services.events import callback_events_sweep, max_attempts
from tests.conftest import advance_time
from tests.tenants.conftest import doomed_worker, redis_url, wait_for
from tests.tenants.factories import CallbackEventFactory, TenantFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PENDING_AFTER = timedelta(seconds=20)
Status = CallbackEvent.Status


def _set(event: CallbackEvent, **fields) -> None:
    CallbackEvent.objects.filter(pk=event.pk).update(**fields)


def _sweep() -> list[int]:
    return callback_events_sweep(pending_after=PENDING_AFTER)


def _status(event: CallbackEvent, status: str):
    return CallbackEvent.objects.filter(pk=event.pk, status=status).first()


def test_sweep_requeues_lost_messages_dead_workers_and_due_retries(celery_worker):
    long_ago = clock.now() - timedelta(hours=1)
    stranded = CallbackEventFactory(next_attempt_at=long_ago)
    lost = CallbackEventFactory(suite=stranded.suite)
    _set(lost, status=Status.PROCESSING, attempts=1, claimed_at=long_ago,
         lease_expires_at=long_ago + timedelta(seconds=25))
    retry = CallbackEventFactory(suite=stranded.suite)
    _set(retry, status=Status.FAILED, attempts=1, next_attempt_at=long_ago)

    assert sorted(_sweep()) == sorted([stranded.pk, lost.pk, retry.pk])

    for event in (stranded, lost, retry):
        wait_for(lambda e=event: _status(e, Status.DONE), what=f"event {event.pk} to be done")
    assert CallbackEvent.objects.get(pk=lost.pk).attempts == 2
    assert CallbackEvent.objects.get(pk=retry.pk).attempts == 2


def test_sweep_leaves_fresh_busy_and_not_yet_due_events_alone():
    now = clock.now()
    fresh = CallbackEventFactory(next_attempt_at=now)
    busy = CallbackEventFactory(suite=fresh.suite)
    _set(busy, status=Status.PROCESSING, attempts=1, claimed_at=now,
         lease_expires_at=now + timedelta(seconds=25))
    waiting = CallbackEventFactory(suite=fresh.suite)
    _set(waiting, status=Status.FAILED, attempts=1, next_attempt_at=now + timedelta(minutes=5))

    assert _sweep() == []
    statuses = dict(CallbackEvent.objects.values_list("pk", "status"))
    assert statuses == {fresh.pk: "pending", busy.pk: "processing", waiting.pk: "failed"}

    # Time passes (no waiting): the lease runs out and the retry falls due.
    advance_time(None, 6 * 60)
    assert sorted(_sweep()) == sorted([fresh.pk, busy.pk, waiting.pk])


def test_sweep_does_not_flood_a_slow_queue(monkeypatch):
    # Nothing consumes here: the queue is slow, and the sweep must not queue the event again
    # on every run while its message waits (a worker would only dedupe the copies).
    published = []
    monkeypatch.setattr("tenants.services.events.callback_events_enqueue",
                        lambda *, event_ids: published.extend(event_ids))
    stranded = CallbackEventFactory(next_attempt_at=clock.now() - timedelta(hours=1))
    assert _sweep() == [stranded.pk]
    assert _sweep() == []  # queued again a moment ago: give the queue PENDING_AFTER
    advance_time(None, PENDING_AFTER.total_seconds() + 1)
    assert _sweep() == [stranded.pk]
    assert published == [stranded.pk, stranded.pk]


def test_sweep_gives_up_on_an_event_that_keeps_losing_its_worker():
    long_ago = clock.now() - timedelta(hours=1)
    doomed = CallbackEventFactory()
    _set(doomed, status=Status.PROCESSING, attempts=max_attempts(), claimed_at=long_ago,
         lease_expires_at=long_ago)

    assert _sweep() == []
    doomed.refresh_from_db()
    assert doomed.status == Status.DEAD and "lost" in doomed.last_error


def test_sweep_claim_records_the_claim_and_its_lease(celery_worker):
    from tenants.tasks import callback_event_process

    event = CallbackEventFactory(next_attempt_at=clock.now())
    before = clock.now()
    callback_event_process.delay(event.pk)
    done = wait_for(lambda: _status(event, Status.DONE), what="the event to be processed")
    assert done.claimed_at is not None and done.claimed_at >= before
    assert done.lease_expires_at is None and done.next_attempt_at is None


def test_sweep_recovers_the_event_of_a_worker_killed_mid_run(celery_worker, emulator,
                                                               make_suite, tmp_path):
    """SIGKILL a worker inside a DingTalk call: once its lease runs out, the sweep hands the
    event to another worker and the tenant is updated. No waiting: the clock is moved."""
    from celery import current_app

    suite, _ = make_suite()
    corp = emulator.create_corp(users=2)
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"], corp_name="old name")
    emulator.add_fault("service/get_auth_info", latency_ms=30_000, count=1)
    payload = {"EventType": "change_auth", "SuiteKey": suite.suite_key,
               "AuthCorpId": tenant.corp_id, "TimeStamp": emulator.now_ms()}
    event = CallbackEventFactory(suite=suite, payload=payload, kind="change_auth",
                                 corp_id=tenant.corp_id, next_attempt_at=clock.now())

    queue = f"doomed-{uuid.uuid4().hex[:8]}"
    worker = doomed_worker(queue, tmp_path / "doomed.log", emulator.base_url)
    try:
        current_app.send_task("tenants.callback_event_process", args=[event.pk], queue=queue)
        wait_for(lambda: _status(event, Status.PROCESSING), timeout=60,
                 what="the doomed worker to claim the event")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        import redis

        redis.Redis.from_url(redis_url(14)).delete(queue)

    assert _sweep() == []  # the lease still holds
    advance_time(emulator, 30)  # past the 20 s lease
    assert _sweep() == [event.pk]
    done = wait_for(lambda: _status(event, Status.DONE), timeout=30,
                    what="another worker to finish the event")
    assert done.attempts == 2
    tenant.refresh_from_db()
    assert tenant.corp_name == corp["name"]
