"""The Celery task on a real worker: retried with backoff after transport errors."""

import pytest

from tenants.models import CallbackEvent, Tenant
from tenants.tasks import callback_event_process
from tests.tenants.conftest import wait_for
from tests.tenants.factories import CallbackEventFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_tasks_transport_failure_is_retried_until_done(celery_worker, emulator, make_suite):
    suite, _ = make_suite(push_style="http")
    corp = emulator.create_corp(users=2)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    # get_permanent_code is not idempotent, so the client does not retry it: the task must.
    emulator.add_fault("service/get_permanent_code", http_status=503, count=1)
    payload = {"EventType": "tmp_auth_code", "SuiteKey": suite.suite_key,
               "AuthCode": auth["tmp_auth_code"], "AuthCorpId": corp["corp_id"],
               "TimeStamp": emulator.now_ms()}
    event = CallbackEventFactory(suite=suite, payload=payload, kind="tmp_auth_code",
                                 corp_id=corp["corp_id"])
    callback_event_process.delay(event.pk)
    done = wait_for(lambda: CallbackEvent.objects.filter(
        pk=event.pk, status=CallbackEvent.Status.DONE).first(), timeout=30, what="the retry")
    assert done.attempts == 2
    tenant = Tenant.objects.get(suite=suite, corp_id=corp["corp_id"])
    assert tenant.permanent_code == auth["permanent_code"]


def test_tasks_a_finished_event_is_left_alone(celery_worker):
    event = CallbackEventFactory(status=CallbackEvent.Status.DONE, attempts=1)
    marker = CallbackEventFactory(suite=event.suite)
    callback_event_process.delay(event.pk)
    callback_event_process.delay(marker.pk)
    wait_for(lambda: CallbackEvent.objects.filter(
        pk=marker.pk, status=CallbackEvent.Status.DONE).exists(), what="the marker event")
    event.refresh_from_db()
    assert (event.status, event.attempts) == (CallbackEvent.Status.DONE, 1)
