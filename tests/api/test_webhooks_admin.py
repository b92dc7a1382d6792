"""The webhook admin pages: an endpoint's secret is shown once (creation, rotation) and masked
on every page after; deliveries show their attempts and can be replayed (same event id); no
secret in any page, log line or repr."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from api.models import WebhookDelivery, WebhookEndpoint
from api.services.webhooks import webhook_endpoint_create
from api.services.webhooks_delivery import webhook_delivery_attempt
from api.services.webhooks_events import webhook_event_record
from tests.api.webhooks_receiver import receivers_running
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_receiver():
    with receivers_running() as make:
        yield make


def _pages(endpoint: WebhookEndpoint, delivery: WebhookDelivery | None = None) -> list[str]:
    urls = [reverse("admin:api_webhookendpoint_changelist"),
            reverse("admin:api_webhookendpoint_change", args=[endpoint.pk]),
            reverse("admin:api_webhookendpoint_history", args=[endpoint.pk])]
    if delivery is not None:
        urls += [reverse("admin:api_webhookdelivery_changelist"),
                 reverse("admin:api_webhookdelivery_change", args=[delivery.pk]),
                 reverse("admin:api_webhookevent_change", args=[delivery.event_id])]
    return urls


def test_webhooks_admin_add_shows_the_secret_once(admin_client):
    suite = SuiteFactory()
    response = admin_client.post(reverse("admin:api_webhookendpoint_add"), {
        "suite": suite.pk, "url": "https://93.184.216.34/hooks", "description": "crm",
        "events": ["tenant.authorized", "tenant.relieved"], "is_active": "on"}, follow=True)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.suite_id == suite.pk
    assert endpoint.events == ["tenant.authorized", "tenant.relieved"]
    assert endpoint.secret in response.content.decode()  # the one time it is shown
    for url in _pages(endpoint):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert endpoint.secret not in page.content.decode(), url
    assert endpoint.secret_masked in admin_client.get(_pages(endpoint)[1]).content.decode()


def test_webhooks_admin_refuses_a_private_url_and_two_owners(admin_client, settings):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    suite = SuiteFactory()
    add = reverse("admin:api_webhookendpoint_add")
    response = admin_client.post(add, {"suite": suite.pk, "url": "http://127.0.0.1:8000/"})
    assert response.status_code == 200 and b"private, loopback" in response.content
    response = admin_client.post(add, {"url": "https://93.184.216.34/"})
    assert response.status_code == 200 and b"exactly one suite" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_admin_rotate_and_replay_and_no_secret_anywhere(admin_client, make_receiver,
                                                                 caplog):
    caplog.set_level(logging.DEBUG)
    receiver = make_receiver()
    suite = SuiteFactory()
    created = webhook_endpoint_create(suite=suite, url=receiver.url)
    event = webhook_event_record(event_type="tenant.changed", tenant=TenantFactory(suite=suite),
                                 data={"tenant": {}})
    delivery = event.deliveries.get()
    webhook_delivery_attempt(delivery_id=delivery.pk)
    response = admin_client.post(reverse("admin:api_webhookendpoint_changelist"), {
        "action": "rotate_secret", "_selected_action": [created.endpoint.pk]}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret != created.secret
    assert endpoint.secret in response.content.decode()
    # The old secret still signs for the overlap: stored (encrypted), never shown again.
    assert endpoint.previous_secret == created.secret
    assert created.secret not in response.content.decode()
    response = admin_client.post(reverse("admin:api_webhookdelivery_changelist"), {
        "action": "replay", "_selected_action": [delivery.pk]}, follow=True)
    assert b"Queued 1 replays" in response.content
    replay = WebhookDelivery.objects.get(replay_of=delivery)
    assert replay.event_id == delivery.event_id and replay.status == "pending"
    webhook_delivery_attempt(delivery_id=replay.pk)
    assert receiver.count() == 2
    assert len({r.headers["X-Dingsuite-Event-Id"] for r in receiver.received}) == 1
    page = admin_client.get(reverse("admin:api_webhookdelivery_change", args=[delivery.pk]))
    assert b"answer 200" in page.content  # the attempt's response, inline
    for url in _pages(endpoint, delivery):
        body = admin_client.get(url).content.decode()
        assert endpoint.secret not in body and created.secret not in body, url
    for secret in (created.secret, endpoint.secret):
        assert secret not in caplog.text
        assert secret not in repr(endpoint) and secret not in repr(created)
