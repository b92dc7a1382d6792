"""One delivery attempt in-process against a real local HTTP receiver: what is retried (5xx,
timeouts, connection errors) and what fails at once (4xx, redirects, refused addresses, at
registration and at delivery, DNS rebinding caught on the socket), the attempt limit, replay."""

from __future__ import annotations

import socket

import pytest

from api.models import WebhookDelivery
from api.services import webhooks_delivery, webhooks_urls
from api.services.webhooks import webhook_endpoint_create
from api.services.webhooks_delivery import (
    backoff_s,
    webhook_delivery_attempt,
    webhook_delivery_replay,
)
from api.services.webhooks_errors import WebhookUrlRefused
from api.services.webhooks_events import webhook_event_record
from api.services.webhooks_urls import address_allowed
from tests.api.webhooks_receiver import documented_verify, receivers_running
from tests.conftest import advance_time
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def make_receiver():
    with receivers_running() as make:
        yield make


def _delivery_to(url: str) -> tuple[WebhookDelivery, str]:
    """A pending delivery of a tenant.changed event to a new endpoint at `url` (its secret)."""
    suite = SuiteFactory()
    created = webhook_endpoint_create(suite=suite, url=url)
    tenant = TenantFactory(suite=suite)
    event = webhook_event_record(event_type="tenant.changed", tenant=tenant, data={"x": 1})
    return event.deliveries.get(), created.secret


def _attempt(delivery: WebhookDelivery) -> WebhookDelivery:
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhooks_delivery_2xx_succeeds_signed(make_receiver):
    receiver = make_receiver(default=204)
    delivery, secret = _delivery_to(receiver.url)
    assert _attempt(delivery).status == Status.SUCCESS
    request = receiver.received[0]
    assert request.path == "/hooks/dingsuite"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Dingsuite-Event"] == "tenant.changed"
    assert request.headers["X-Dingsuite-Delivery-Id"] == str(delivery.pk)
    assert documented_verify()(secret, request.body, request.headers["X-Dingsuite-Signature"])
    # A second task for the same delivery finds nothing to do.
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert receiver.count() == 1


def test_webhooks_delivery_timeout_is_retried(make_receiver, settings):
    settings.API_WEBHOOK_READ_TIMEOUT_S = 0.2
    receiver = make_receiver(delay_s=1.0)
    delivery = _attempt(_delivery_to(receiver.url)[0])
    assert delivery.status == Status.RETRYING and delivery.last_error == "timed out"
    assert delivery.next_attempt_at is not None and delivery.lease_expires_at is None
    assert delivery.attempt_rows.get().response_status is None


def test_webhooks_delivery_connection_refused_is_retried():
    delivery = _attempt(_delivery_to(f"http://127.0.0.1:{_free_port()}/")[0])
    assert delivery.status == Status.RETRYING
    assert delivery.last_error.startswith("connection failed")


def test_webhooks_delivery_gives_up_after_the_maximum_attempts(make_receiver, settings):
    settings.API_WEBHOOK_MAX_ATTEMPTS = 2
    receiver = make_receiver(default=502)
    delivery = _attempt(_delivery_to(receiver.url)[0])
    assert delivery.status == Status.RETRYING
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # not due yet
    advance_time(None, settings.API_WEBHOOK_RETRY_BASE_S + 1)
    delivery = _attempt(delivery)
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "gave up after 2 attempts: HTTP 502"
    assert receiver.count() == 2


def test_webhooks_delivery_redirect_is_not_followed(make_receiver):
    target = make_receiver()
    receiver = make_receiver(default=302, location=target.url)
    delivery = _attempt(_delivery_to(receiver.url)[0])
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "redirects are not followed"
    assert target.count() == 0


def test_webhooks_backoff_doubles_with_jitter_and_is_capped(settings):
    settings.API_WEBHOOK_RETRY_BASE_S, settings.API_WEBHOOK_RETRY_MAX_S = 10, 100
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        waits = [backoff_s(attempts) for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits)
        assert len(set(waits)) > 1


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/", "http://localhost/", "http://[::1]/", "http://10.1.2.3/",
    "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/", "http://0.0.0.0/",
])
def test_webhooks_private_urls_are_refused_unless_allowed(url, settings):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    suite = SuiteFactory()
    with pytest.raises(WebhookUrlRefused):
        webhook_endpoint_create(suite=suite, url=url)
    assert not suite.webhook_endpoints.exists()
    settings.API_WEBHOOK_ALLOW_PRIVATE = True
    assert webhook_endpoint_create(suite=suite, url=url).endpoint.pk


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "example.com",
                                 "http://user:pw@93.184.216.34/", "http:///nohost",
                                 "http://93.184.216.34/a b", "http://[::1/"])
def test_webhooks_malformed_urls_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(WebhookUrlRefused):
        webhook_endpoint_create(suite=SuiteFactory(), url=url)


def test_webhooks_address_rules(settings):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    assert address_allowed("93.184.216.34") and address_allowed("2606:2800:220:1::1")
    assert not any(address_allowed(a) for a in [
        "127.0.0.1", "::1", "10.0.0.1", "172.16.0.1", "169.254.1.1", "fe80::1%eth0", "fc00::1",
        "::ffff:10.0.0.1", "224.0.0.1", "0.0.0.0", "not-an-ip"])
    settings.API_WEBHOOK_ALLOW_PRIVATE = True
    assert address_allowed("127.0.0.1")


def test_webhooks_private_address_refused_at_delivery_time(make_receiver, settings):
    receiver = make_receiver()
    delivery, _ = _delivery_to(receiver.url)  # registered while allowed
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    delivery = _attempt(delivery)
    assert delivery.status == Status.FAILED and delivery.last_error.startswith("refused")
    assert receiver.count() == 0


def test_webhooks_dns_rebinding_is_caught_on_the_connected_socket(make_receiver, settings,
                                                                   monkeypatch):
    """The checks' lookup says public, the connection's own lookup says loopback: the peer
    address of the socket is refused before a byte is sent."""
    receiver = make_receiver()
    url = receiver.url.replace("127.0.0.1", "localhost")
    delivery, _ = _delivery_to(url)
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(webhooks_urls, "resolve", lambda host, port: ["93.184.216.34"])
    delivery = _attempt(delivery)
    assert delivery.status == Status.FAILED
    assert "not a public address" in delivery.last_error
    assert receiver.count() == 0


def test_webhooks_replay_is_a_new_delivery_of_the_same_event(make_receiver):
    receiver = make_receiver()
    delivery, _ = _delivery_to(receiver.url)
    assert _attempt(delivery).status == Status.SUCCESS
    replay = webhook_delivery_replay(delivery=delivery)
    assert replay.pk != delivery.pk and replay.replay_of_id == delivery.pk
    assert _attempt(replay).status == Status.SUCCESS
    first, second = receiver.received
    assert first.headers["X-Dingsuite-Event-Id"] == second.headers["X-Dingsuite-Event-Id"]
    assert first.body == second.body
    assert first.headers["X-Dingsuite-Delivery-Id"] != second.headers["X-Dingsuite-Delivery-Id"]


def test_webhooks_delivery_an_unexpected_failure_is_recorded_and_counts(make_receiver,
                                                                        monkeypatch, settings):
    """A bug on our side must not leave the delivery leased and retried for ever."""
    settings.API_WEBHOOK_MAX_ATTEMPTS = 1
    receiver = make_receiver()
    delivery, _ = _delivery_to(receiver.url)

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(webhooks_delivery, "checked_session", broken)
    delivery = _attempt(delivery)
    assert delivery.status == Status.FAILED and delivery.lease_expires_at is None
    assert delivery.last_error == "gave up after 1 attempts: unexpected failure: RuntimeError"
    assert receiver.count() == 0


def test_webhooks_delivery_a_host_that_does_not_resolve_is_retried(settings):
    delivery, _ = _delivery_to("http://no-such-host.invalid/hook")  # registered while allowed
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    delivery = _attempt(delivery)
    assert delivery.status == Status.RETRYING
    assert delivery.last_error == "the host cannot be resolved"
