"""tenants.event_receivers: the apps above tenants act on the inbox's events of their kinds,
under the inbox's claim and retry rules."""

import time

import pytest

from dingtalk.errors import TransportError
from tenants import event_receivers
from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process

from .factories import SuiteFactory, TenantFactory
from .pushes import push, sync_row, sync_rows

pytestmark = pytest.mark.django_db
MS = int(time.time() * 1000)
Status = CallbackEvent.Status


@pytest.fixture
def receivers(monkeypatch):
    """A registry of this test's own, so the apps' real receivers are out of the way."""
    monkeypatch.setattr(event_receivers, "_RECEIVERS", {})
    return event_receivers


def _order_event(client, orderId="o1"):
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    row = sync_row(suite, 17, orderId, {"syncAction": "market_order", "orderId": orderId},
                   corp_id=tenant.corp_id, modified=MS)
    assert push(client, suite, sync_rows(row)).status_code == 200
    return CallbackEvent.objects.get(suite=suite, kind="market_order")


def test_event_receivers_get_the_parsed_event_and_decide_the_outcome(client, receivers):
    seen = []

    def commerce(*, event, parsed):
        seen.append((event.pk, parsed.kind, parsed.order_id))
        return Status.DONE, "ordered"

    receivers.receive("market_order", commerce)
    receivers.receive("market_order", commerce)  # the same receiver twice runs once
    event = _order_event(client)
    processed = callback_event_process(event_id=event.pk)
    assert processed.status == Status.DONE
    assert seen == [(event.pk, "market_order", "o1")]


def test_event_receivers_ignore_only_when_every_receiver_ignored(client, receivers):
    receivers.receive("market_order", lambda **_: (Status.IGNORED, "not mine"))
    event = _order_event(client)
    processed = callback_event_process(event_id=event.pk)
    assert (processed.status, processed.last_error) == (Status.IGNORED, "not mine")

    receivers.receive("market_order", lambda **_: None)  # None means done
    event2 = _order_event(client, "o2")
    assert callback_event_process(event_id=event2.pk).status == Status.DONE


def test_event_receivers_retryable_failure_is_retried_by_the_inbox(client, receivers):
    calls = []

    def flaky(*, event, parsed):
        calls.append(event.pk)
        if len(calls) == 1:
            raise TransportError("DingTalk unreachable")
        return Status.DONE, ""

    receivers.receive("market_order", flaky)
    event = _order_event(client)
    failed = callback_event_process(event_id=event.pk)
    assert failed.status == Status.FAILED and failed.next_attempt_at is not None
    CallbackEvent.objects.filter(pk=event.pk).update(next_attempt_at=failed.received_at)
    assert callback_event_process(event_id=event.pk).status == Status.DONE
    assert calls == [event.pk, event.pk]
