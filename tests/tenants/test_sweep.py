"""The sweep queues again callback events stranded by a broker outage or a lost worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import CallbackEvent
from tenants.services.events import MAX_ATTEMPTS, callback_events_sweep
from tests.tenants.conftest import wait_for
from tests.tenants.factories import CallbackEventFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PENDING_AFTER = timedelta(minutes=2)
PROCESSING_AFTER = timedelta(minutes=15)


def _age(event: CallbackEvent, **fields) -> None:
    CallbackEvent.objects.filter(pk=event.pk).update(**fields)


def _sweep() -> list[int]:
    return callback_events_sweep(pending_after=PENDING_AFTER, processing_after=PROCESSING_AFTER)


def _done(event: CallbackEvent):
    return CallbackEvent.objects.filter(pk=event.pk, status=CallbackEvent.Status.DONE).first()


def test_sweep_requeues_old_pending_and_lost_processing_events(celery_worker):
    long_ago = timezone.now() - timedelta(hours=1)
    stranded = CallbackEventFactory()
    _age(stranded, received_at=long_ago)
    lost = CallbackEventFactory(suite=stranded.suite)
    _age(lost, received_at=long_ago, status=CallbackEvent.Status.PROCESSING, attempts=1,
         claimed_at=long_ago)

    assert sorted(_sweep()) == sorted([stranded.pk, lost.pk])

    assert wait_for(lambda: _done(stranded), what="the stranded event to be processed")
    recovered = wait_for(lambda: _done(lost), what="the lost event to be processed")
    assert recovered.attempts == 2


def test_sweep_leaves_fresh_and_busy_events_alone():
    fresh = CallbackEventFactory()
    busy = CallbackEventFactory(suite=fresh.suite)
    _age(busy, status=CallbackEvent.Status.PROCESSING, attempts=1, claimed_at=timezone.now())
    failed = CallbackEventFactory(suite=fresh.suite)
    _age(failed, received_at=timezone.now() - timedelta(hours=1),
         status=CallbackEvent.Status.FAILED)

    assert _sweep() == []
    statuses = dict(CallbackEvent.objects.values_list("pk", "status"))
    assert statuses == {fresh.pk: "pending", busy.pk: "processing", failed.pk: "failed"}


def test_sweep_gives_up_on_an_event_that_keeps_losing_its_worker():
    long_ago = timezone.now() - timedelta(hours=1)
    doomed = CallbackEventFactory()
    _age(doomed, status=CallbackEvent.Status.PROCESSING, attempts=MAX_ATTEMPTS,
         claimed_at=long_ago, received_at=long_ago)

    assert _sweep() == []
    doomed.refresh_from_db()
    assert doomed.status == CallbackEvent.Status.DEAD
    assert "lost" in doomed.last_error


def test_sweep_claim_records_when_the_worker_took_the_event(celery_worker):
    from tenants.tasks import callback_event_process

    event = CallbackEventFactory()
    before = timezone.now()
    callback_event_process.delay(event.pk)
    done = wait_for(lambda: _done(event), what="the event to be processed")
    assert done.claimed_at is not None and done.claimed_at >= before
