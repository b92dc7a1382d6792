"""Secret rotation with an overlap: after POST .../rotate-secret/ every delivery carries a v1
signature with the new secret and one with the previous secret until the overlap ends (the
setting's, or the call's `overlap_s`; 0 ends it at once), checked with docs/webhooks.md's
snippet against a real local receiver; the previous secret is stored encrypted, shown nowhere,
and emptied once expired (by the delivery that notices, and by the sweep)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from django.db import connection

from api import tasks
from api.models import WebhookDelivery, WebhookEndpoint
from api.services.keys import api_key_create
from api.services.webhooks import webhook_secret_rotate
from api.services.webhooks_delivery import webhook_delivery_attempt
from api.services.webhooks_errors import WebhookEndpointInvalid
from api.services.webhooks_events import webhook_event_record
from core import clock
from tests.api.conftest import key_client
from tests.api.webhooks_receiver import documented_verify, receivers_running
from tests.conftest import advance_time
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhooks/"
# After the clock moved past a window the signature's timestamp is "old" for the snippet's
# replay check; a wide tolerance makes the secret the only thing that can fail.
ANY_AGE = 10**9


@pytest.fixture
def make_receiver():
    with receivers_running() as make:
        yield make


class Hooked:
    """A suite with a key, an endpoint made through the API at a receiver, and a tenant."""

    def __init__(self, receiver) -> None:
        self.suite = SuiteFactory()
        self.client = key_client(api_key_create(name="k", suite=self.suite).plaintext)
        self.receiver = receiver
        created = self.client.post(LIST, {"url": receiver.url}, format="json").json()
        self.id, self.first_secret = created["id"], created["secret"]
        self.tenant = TenantFactory(suite=self.suite)

    def rotate(self, body: dict | None = None):
        return self.client.post(f"{LIST}{self.id}/rotate-secret/", body or {}, format="json")

    def deliver(self) -> tuple[bytes, str]:
        """A new event delivered now: the body and X-Dingsuite-Signature the receiver got."""
        event = webhook_event_record(event_type="tenant.changed", tenant=self.tenant,
                                     data={"n": self.receiver.count()})
        assert webhook_delivery_attempt(delivery_id=event.deliveries.get().pk) == "success"
        got = self.receiver.received[-1]
        return got.body, got.headers["X-Dingsuite-Signature"]

    def endpoint(self) -> WebhookEndpoint:
        return WebhookEndpoint.objects.get(pk=self.id)


def _v1_count(header: str) -> int:
    return sum(1 for item in header.split(",") if item.startswith("v1="))


def _raw_previous(endpoint_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT previous_secret FROM api_webhookendpoint WHERE id = %s",
                       [endpoint_id])
        return cursor.fetchone()[0]


def test_webhooks_rotation_old_secret_verifies_during_the_overlap_and_not_after(
        make_receiver, settings):
    hooked, verify = Hooked(make_receiver()), documented_verify()
    old = hooked.first_secret
    rotated = hooked.rotate()
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new != old
    until = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    started = datetime.fromisoformat(rotated.json()["secret_rotated_at"])
    assert until - started == timedelta(seconds=settings.API_WEBHOOK_SECRET_OVERLAP_S)
    assert settings.API_WEBHOOK_SECRET_OVERLAP_S == 24 * 3600  # the default
    body, header = hooked.deliver()
    assert header.startswith("t=") and _v1_count(header) == 2
    # A receiver with only the new secret verifies at once; one with only the old one too.
    assert verify(new, body, header) and verify(old, body, header)
    assert not verify("whsec_other", body, header)
    advance_time(None, settings.API_WEBHOOK_SECRET_OVERLAP_S - 60)
    body, header = hooked.deliver()
    assert verify(old, body, header, ANY_AGE) and verify(new, body, header, ANY_AGE)
    advance_time(None, 61)
    body, header = hooked.deliver()
    assert _v1_count(header) == 1
    assert not verify(old, body, header, ANY_AGE)
    assert verify(new, body, header, ANY_AGE)
    # The delivery that found it expired dropped it: nothing of it stays in the database.
    endpoint = hooked.endpoint()
    assert endpoint.previous_secret == "" and endpoint.previous_secret_expires_at is None
    assert _raw_previous(hooked.id) == ""
    assert hooked.client.get(f"{LIST}{hooked.id}/").json()["previous_secret_expires_at"] is None


def test_webhooks_rotation_a_retry_in_flight_verifies_with_the_old_secret(make_receiver,
                                                                          settings):
    """A delivery whose first attempt failed before the rotation is retried after it: the
    receiver not yet redeployed (old secret only) accepts the retry."""
    hooked = Hooked(make_receiver(statuses=[503]))
    event = webhook_event_record(event_type="tenant.changed", tenant=hooked.tenant, data={})
    delivery = event.deliveries.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "retrying"
    new = hooked.rotate().json()["secret"]
    advance_time(None, settings.API_WEBHOOK_RETRY_BASE_S + 1)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "success"
    first, retry = hooked.receiver.received
    verify = documented_verify()
    assert _v1_count(first.headers["X-Dingsuite-Signature"]) == 1
    assert verify(hooked.first_secret, retry.body, retry.headers["X-Dingsuite-Signature"])
    assert verify(new, retry.body, retry.headers["X-Dingsuite-Signature"])


def test_webhooks_rotation_overlap_0_drops_the_old_secret_at_once(make_receiver):
    hooked, verify = Hooked(make_receiver()), documented_verify()
    rotated = hooked.rotate({"overlap_s": 0})
    assert rotated.status_code == 200
    assert rotated.json()["previous_secret_expires_at"] is None
    endpoint = hooked.endpoint()
    assert endpoint.previous_secret == "" and endpoint.previous_secret_expires_at is None
    body, header = hooked.deliver()
    assert _v1_count(header) == 1
    assert verify(rotated.json()["secret"], body, header)
    assert not verify(hooked.first_secret, body, header)


def test_webhooks_rotation_overlap_s_sets_this_rotations_window(make_receiver):
    hooked, verify = Hooked(make_receiver()), documented_verify()
    rotated = hooked.rotate({"overlap_s": 600}).json()
    assert (datetime.fromisoformat(rotated["previous_secret_expires_at"])
            - datetime.fromisoformat(rotated["secret_rotated_at"])) == timedelta(seconds=600)
    advance_time(None, 599)
    body, header = hooked.deliver()
    assert verify(hooked.first_secret, body, header, ANY_AGE)
    advance_time(None, 2)
    body, header = hooked.deliver()
    assert not verify(hooked.first_secret, body, header, ANY_AGE)
    assert verify(rotated["secret"], body, header, ANY_AGE)


def test_webhooks_rotation_the_setting_is_the_default_window(make_receiver, settings):
    settings.API_WEBHOOK_SECRET_OVERLAP_S = 3600
    hooked = Hooked(make_receiver())
    hooked.rotate()
    endpoint = hooked.endpoint()
    assert endpoint.previous_secret_expires_at - endpoint.secret_rotated_at == timedelta(
        hours=1)


def test_webhooks_rotation_twice_keeps_only_the_newest_two(make_receiver):
    hooked, verify = Hooked(make_receiver()), documented_verify()
    second = hooked.rotate().json()["secret"]
    third = hooked.rotate().json()["secret"]
    body, header = hooked.deliver()
    assert _v1_count(header) == 2
    assert verify(third, body, header) and verify(second, body, header)
    assert not verify(hooked.first_secret, body, header)


@pytest.mark.parametrize("overlap_s", [-1, 604_801, 10**30, "abc", 1.5, None, True, "", [60],
                                       {"s": 1}])
def test_webhooks_rotation_bad_overlap_s_is_a_400_that_changes_nothing(make_receiver,
                                                                       overlap_s):
    hooked = Hooked(make_receiver())
    response = hooked.rotate({"overlap_s": overlap_s})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and "overlap_s" in error["details"], error
    endpoint = hooked.endpoint()
    assert endpoint.secret == hooked.first_secret and endpoint.secret_rotated_at is None


def test_webhooks_rotation_edges_of_overlap_s_are_accepted(make_receiver):
    hooked = Hooked(make_receiver())
    assert hooked.rotate({"overlap_s": 604_800}).status_code == 200
    assert hooked.rotate({"overlap_s": "60"}).status_code == 200  # digits, as JSON numbers are


def test_webhooks_rotation_service_refuses_a_bad_overlap():
    from api.services.webhooks import webhook_endpoint_create

    created = webhook_endpoint_create(suite=SuiteFactory(), url="https://93.184.216.34/h")
    for bad in (-1, 604_801, 1.5, True, "60"):
        with pytest.raises(WebhookEndpointInvalid):
            webhook_secret_rotate(endpoint=created.endpoint, overlap_s=bad)
    assert WebhookEndpoint.objects.get().secret == created.secret


def test_webhooks_rotation_previous_secret_is_encrypted_and_shown_nowhere(make_receiver,
                                                                         caplog):
    caplog.set_level(logging.DEBUG)
    hooked = Hooked(make_receiver())
    old = hooked.first_secret
    rotated = hooked.rotate()
    endpoint = hooked.endpoint()
    assert endpoint.previous_secret == old
    raw = _raw_previous(hooked.id)
    assert raw and old not in raw and old[len("whsec_"):] not in raw
    hooked.deliver()
    delivery = WebhookDelivery.objects.get()
    pages = [rotated, hooked.client.get(LIST), hooked.client.get(f"{LIST}{hooked.id}/"),
             hooked.client.get(f"{LIST}{hooked.id}/deliveries/"),
             hooked.client.get(f"{LIST}{hooked.id}/deliveries/{delivery.pk}/")]
    for page in pages:
        assert page.status_code == 200
        assert old not in page.content.decode()
    assert old not in caplog.text and old not in repr(endpoint) and old not in str(endpoint)


def test_webhooks_rotation_the_sweep_empties_expired_previous_secrets(make_receiver):
    expiring, lasting = Hooked(make_receiver()), Hooked(make_receiver())
    expiring.rotate({"overlap_s": 60})
    lasting.rotate({"overlap_s": 3600})
    tasks.webhooks_sweep()  # as beat runs it: nothing expired yet
    assert expiring.endpoint().previous_secret == expiring.first_secret
    advance_time(None, 61)
    tasks.webhooks_sweep()
    assert _raw_previous(expiring.id) == ""
    assert expiring.endpoint().previous_secret_expires_at is None
    assert lasting.endpoint().previous_secret == lasting.first_secret
    assert lasting.endpoint().previous_secret_expires_at > clock.now()
