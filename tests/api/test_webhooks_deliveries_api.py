"""/api/v1/webhooks/<id>/deliveries/: an endpoint's deliveries, newest first, cursor-paged and
filtered; one with its attempts (answers truncated as stored, no secret); redeliver queues a
finished one again (409 while open or when the endpoint is off); another owner's endpoint, or
another endpoint's delivery, is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from api.models import WebhookDelivery
from api.services.keys import api_key_create
from api.services.webhooks_delivery import RESPONSE_BODY_KEPT, webhook_delivery_attempt
from api.services.webhooks_events import webhook_event_record
from core import clock
from tests.api.conftest import key_client
from tests.api.webhooks_receiver import receivers_running
from tests.conftest import advance_time
from tests.tenants.conftest import wait_for
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhooks/"
Status = WebhookDelivery.Status


@pytest.fixture
def make_receiver():
    with receivers_running() as make:
        yield make


def _deliveries(endpoint_id: int, tail: str = "") -> str:
    return f"{LIST}{endpoint_id}/deliveries/{tail}"


def _endpoint(client: APIClient, url: str) -> dict:
    response = client.post(LIST, {"url": url}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _event(tenant, event_type: str = "tenant.changed") -> WebhookDelivery:
    """A new event heard by the tenant's owner's endpoints; its (one) delivery."""
    return webhook_event_record(event_type=event_type, tenant=tenant,
                                data={"corp_id": tenant.corp_id}).deliveries.get()


@pytest.fixture
def hooked(make_receiver):
    """A suite's key and endpoint whose receiver answers 200, 410 (fails at once), 503
    (retried), then a long body; a tenant of the suite."""
    suite = SuiteFactory()
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    receiver = make_receiver(statuses=[200, 410, 503], answer=b"x" * (RESPONSE_BODY_KEPT * 3))
    return client, _endpoint(client, receiver.url), TenantFactory(suite=suite), receiver


def test_webhooks_deliveries_list_newest_first_filtered_and_paged(hooked):
    client, endpoint, tenant, _ = hooked
    made = []
    for event_type in ("tenant.changed", "tenant.relieved", "tenant.changed", "order.paid"):
        delivery = _event(tenant, event_type)
        if len(made) < 3:  # 200, 410, 503; the fourth is not attempted yet
            webhook_delivery_attempt(delivery_id=delivery.pk)
        made.append(delivery.pk)
        advance_time(None, 60)
    page = client.get(_deliveries(endpoint["id"]))
    assert page.status_code == 200, page.content
    rows = page.json()["results"]
    assert [r["id"] for r in rows] == made[::-1]
    assert [r["status"] for r in rows] == ["pending", "retrying", "failed", "success"]
    assert rows[2]["last_error"] == "HTTP 410" and rows[2]["attempt_count"] == 1
    assert rows[1]["next_attempt_at"] is not None and rows[3]["finished_at"] is not None
    event = WebhookDelivery.objects.select_related("event").get(pk=made[0]).event
    assert rows[3]["event_id"] == str(event.event_id)
    assert rows[3]["event_type"] == "tenant.changed"

    def ids(query: str) -> list[int]:
        response = client.get(_deliveries(endpoint["id"], f"?{query}"))
        assert response.status_code == 200, (query, response.content)
        return [r["id"] for r in response.json()["results"]]

    assert ids("status=failed") == [made[1]]
    assert ids("event_type=tenant.changed") == [made[2], made[0]]
    assert ids("event_type=tenant.changed&status=success") == [made[0]]
    second_created = WebhookDelivery.objects.get(pk=made[1]).created_at
    assert ids(f"created_after={second_created.isoformat().replace('+00:00', 'Z')}") == \
        made[:0:-1]
    assert ids("status=failed&event_type=order.paid") == []
    first = client.get(_deliveries(endpoint["id"], "?page_size=3")).json()
    assert [r["id"] for r in first["results"]] == made[:0:-1] and first["next"]
    rest = client.get(first["next"]).json()
    assert [r["id"] for r in rest["results"]] == [made[0]] and rest["next"] is None


@pytest.mark.parametrize("query", ["status=lost", "event_type=tenant.exploded",
                                   "created_after=yesterday", "page_size=0", "page_size=201"])
def test_webhooks_deliveries_list_bad_filters_are_400(hooked, query):
    client, endpoint, _, _ = hooked
    response = client.get(_deliveries(endpoint["id"], f"?{query}"))
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()["error"]["details"]


def test_webhooks_deliveries_detail_has_attempts_truncated_and_no_secret(hooked, settings):
    client, endpoint, tenant, receiver = hooked
    receiver.statuses[:] = [503]
    delivery = _event(tenant)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    advance_time(None, settings.API_WEBHOOK_RETRY_BASE_S + 1)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    response = client.get(_deliveries(endpoint["id"], f"{delivery.pk}/"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success" and body["attempt_count"] == 2
    assert body["payload"]["data"] == {"corp_id": tenant.corp_id}
    first, second = body["attempts"]
    assert first["response_status"] == 503 and second["response_status"] == 200
    assert first["attempted_at"] < second["attempted_at"]
    assert all(a["duration_ms"] >= 0 and a["error"] == "" for a in body["attempts"])
    assert second["response_body"] == "x" * RESPONSE_BODY_KEPT  # as stored: cut to 1 KB
    assert endpoint["secret"] not in response.content.decode()
    assert "secret" not in response.content.decode()


def test_webhooks_deliveries_detail_shows_an_attempt_without_an_answer(make_receiver):
    suite = SuiteFactory()
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    receiver = make_receiver()
    endpoint = _endpoint(client, receiver.url)
    receiver.stop()  # nobody listens there any more: a connection error
    delivery = _event(TenantFactory(suite=suite))
    webhook_delivery_attempt(delivery_id=delivery.pk)
    attempt = client.get(_deliveries(endpoint["id"], f"{delivery.pk}/")).json()["attempts"][0]
    assert attempt["response_status"] is None
    assert attempt["error"].startswith("connection failed")


def test_webhooks_deliveries_redeliver_a_failed_one_is_a_new_attempt(hooked):
    client, endpoint, tenant, receiver = hooked
    receiver.statuses[:] = [410]
    delivery = _event(tenant)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    url = _deliveries(endpoint["id"], f"{delivery.pk}/redeliver/")
    response = client.post(url)
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["id"] == delivery.pk and queued["status"] == "pending"
    assert queued["attempt_count"] == 0 and queued["finished_at"] is None
    assert [a["response_status"] for a in queued["attempts"]] == [410]  # history kept
    # A second redeliver while it is queued: 409, nothing changed.
    again = client.post(url)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "webhook_delivery_not_finished"
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "success"
    done = client.get(_deliveries(endpoint["id"], f"{delivery.pk}/")).json()
    assert [a["response_status"] for a in done["attempts"]] == [410, 200]
    assert done["status"] == "success"
    first, second = receiver.received
    assert first.headers["X-Dingsuite-Event-Id"] == second.headers["X-Dingsuite-Event-Id"]
    assert first.headers["X-Dingsuite-Delivery-Id"] == second.headers["X-Dingsuite-Delivery-Id"]
    # A succeeded delivery may be sent again too (the receiver lost it).
    assert client.post(url).status_code == 202


def test_webhooks_deliveries_redeliver_an_open_one_is_409(hooked):
    client, endpoint, tenant, receiver = hooked
    receiver.statuses[:] = [503]
    pending = _event(tenant)
    retrying = _event(tenant)
    webhook_delivery_attempt(delivery_id=retrying.pk)
    for delivery, status in ((pending, "pending"), (retrying, "retrying")):
        before = WebhookDelivery.objects.get(pk=delivery.pk)
        assert before.status == status
        response = client.post(_deliveries(endpoint["id"], f"{delivery.pk}/redeliver/"))
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "webhook_delivery_not_finished"
        after = WebhookDelivery.objects.get(pk=delivery.pk)
        assert (after.status, after.attempts, after.next_attempt_at) == (
            before.status, before.attempts, before.next_attempt_at)


def test_webhooks_deliveries_redeliver_to_an_inactive_endpoint_is_409(hooked):
    client, endpoint, tenant, receiver = hooked
    receiver.statuses[:] = [410]
    delivery = _event(tenant)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    client.patch(f"{LIST}{endpoint['id']}/", {"is_active": False}, format="json")
    response = client.post(_deliveries(endpoint["id"], f"{delivery.pk}/redeliver/"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webhook_endpoint_inactive"
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == Status.FAILED


def test_webhooks_deliveries_of_another_owner_or_endpoint_are_not_found(make_receiver):
    receiver = make_receiver(default=410)
    suite_a, suite_b, app = SuiteFactory(), SuiteFactory(), InternalAppFactory()
    client_a = key_client(api_key_create(name="a", suite=suite_a).plaintext)
    client_b = key_client(api_key_create(name="b", suite=suite_b).plaintext)
    client_app = key_client(api_key_create(name="app", app=app).plaintext)
    mine, mine_too = _endpoint(client_a, receiver.url), _endpoint(client_a, receiver.url)
    theirs = _endpoint(client_b, receiver.url)
    _endpoint(client_app, receiver.url)
    event = webhook_event_record(event_type="tenant.changed",
                                 tenant=TenantFactory(suite=suite_a), data={})
    my_delivery = event.deliveries.get(endpoint_id=mine["id"])
    webhook_delivery_attempt(delivery_id=my_delivery.pk)  # failed: redeliverable by its owner
    tails = ["", f"{my_delivery.pk}/", f"{my_delivery.pk}/redeliver/"]
    for client in (client_b, client_app):
        for tail in tails:
            method = client.post if tail.endswith("redeliver/") else client.get
            response = method(_deliveries(mine["id"], tail))
            assert response.status_code == 404, (tail, response.content)
            assert response.json()["error"]["code"] == "webhook_endpoint_not_found"
    # My own other endpoint does not reach this endpoint's delivery.
    for tail in tails[1:]:
        method = client_a.post if tail.endswith("redeliver/") else client_a.get
        response = method(_deliveries(mine_too["id"], tail))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "webhook_delivery_not_found"
    for missing in (999_999_999, 2**63, 10**30):
        assert client_a.get(_deliveries(mine["id"], f"{missing}/")).status_code == 404
    assert client_a.get(_deliveries(theirs["id"])).status_code == 404
    assert [r["id"] for r in client_a.get(_deliveries(mine_too["id"])).json()["results"]] == [
        d.pk for d in event.deliveries.filter(endpoint_id=mine_too["id"])]
    assert WebhookDelivery.objects.get(pk=my_delivery.pk).status == Status.FAILED
    # A key limited to some tenants manages no webhooks, so reads no deliveries either.
    limited = key_client(api_key_create(name="some", suite=suite_a,
                                        tenants=[TenantFactory(suite=suite_a)]).plaintext)
    assert limited.get(_deliveries(mine["id"])).status_code == 403


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_webhooks_deliveries_redeliver_is_queued_to_the_worker(celery_worker, make_receiver):
    """End to end: the redeliver call's task reaches the session's Celery worker, which makes
    the new attempt."""
    receiver = make_receiver(statuses=[410])
    suite = SuiteFactory()
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    endpoint = _endpoint(client, receiver.url)
    delivery = _event(TenantFactory(suite=suite))
    wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="failed").first(),
             timeout=30, what="the 410")
    response = client.post(_deliveries(endpoint["id"], f"{delivery.pk}/redeliver/"))
    assert response.status_code == 202
    done = wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk,
                                                           status="success").first(),
                    timeout=30, what="the redelivery")
    assert done.attempt_rows.count() == 2 and receiver.count() == 2
    assert done.finished_at >= clock.now() - timedelta(minutes=1)
