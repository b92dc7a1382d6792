"""The commerce API (entitlement, orders) and its webhooks, over ledger rows made through the
inbox with verification off; isolation between suites. In-app fulfil and consume against the
emulator: tests/commerce/test_inapp.py."""

from __future__ import annotations

import pytest

from api.models import WebhookEvent
from api.services.keys import api_key_create
from api.services.webhooks import webhook_endpoint_create
from commerce.services.entitlements import entitlements_sweep
from core import clock
from tests.api.conftest import key_client
from tests.commerce.conftest import Pusher
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db
URL = "https://93.184.216.34/hooks"


@pytest.fixture
def shop(client, settings):
    settings.COMMERCE_VERIFY_ORDERS = False
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    key = api_key_create(name="shop", suite=suite).plaintext
    return tenant, Pusher(client, suite), key_client(key)


def test_commerce_api_entitlement_and_orders(shop):
    tenant, pusher, api = shop
    base = f"/api/v1/tenants/{tenant.corp_id}"
    none = api.get(f"{base}/entitlement/")
    assert none.status_code == 200
    assert (none.json()["kind"], none.json()["active"], none.json()["version"]) == (
        "none", False, 0)

    pusher.order(tenant.corp_id, "o1", fee=9900, days=30)
    pusher.order(tenant.corp_id, "o2", fee=0, days=15, orderType="BUY")
    body = api.get(f"{base}/entitlement/").json()
    assert (body["kind"], body["active"], body["order_id"]) == ("trial", True, "o2")
    assert body["active_until"] is not None and body["max_of_people"] == 50

    page = api.get(f"{base}/orders/", {"page_size": 1}).json()
    assert [o["order_id"] for o in page["results"]] == ["o2"]
    rest = api.get(page["next"]).json()
    assert [o["order_id"] for o in rest["results"]] == ["o1"]
    assert rest["results"][0]["pay_fee"] == 9900 and rest["results"][0]["status"] == "active"

    clock.advance(31 * 86400)  # both ended; the API says so before the sweep does
    expired = api.get(f"{base}/entitlement/").json()
    assert (expired["expired"], expired["active"], expired["order_id"]) == (True, False, "o1")


def test_commerce_api_another_suites_key_gets_404(shop):
    tenant, pusher, _ = shop
    pusher.order(tenant.corp_id, "o1")
    other = key_client(api_key_create(name="other", suite=SuiteFactory()).plaintext)
    base = f"/api/v1/tenants/{tenant.corp_id}"
    for response in (other.get(f"{base}/entitlement/"), other.get(f"{base}/orders/"),
                     other.post(f"{base}/orders/o1/fulfil/"),
                     other.post(f"{base}/orders/o1/consume/",
                                {"request_id": "r1", "quantity": 1, "userid": "u"},
                                format="json")):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "tenant_not_found"
    assert key_client(None).get(f"{base}/entitlement/").status_code == 401


def test_commerce_api_fulfil_refuses_app_orders_and_unknown_ids(shop):
    tenant, pusher, api = shop
    pusher.order(tenant.corp_id, "o1")
    base = f"/api/v1/tenants/{tenant.corp_id}/orders"
    not_in_app = api.post(f"{base}/o1/fulfil/")
    assert (not_in_app.status_code, not_in_app.json()["error"]["code"]) == (
        409, "order_not_in_app")
    unknown = api.post(f"{base}/nope/fulfil/")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "order_not_found")
    nul = api.post(f"{base}/a%00b/fulfil/")
    assert nul.status_code == 404
    bad = api.post(f"{base}/o1/consume/", {"request_id": "r", "quantity": 0, "userid": "u"},
                   format="json")
    assert bad.status_code == 400 and "quantity" in bad.json()["error"]["details"]


def test_commerce_api_webhooks_entitlement_changed_and_order_paid(
        shop, django_capture_on_commit_callbacks):
    tenant, pusher, _ = shop
    webhook_endpoint_create(suite=tenant.suite, url=URL)
    with django_capture_on_commit_callbacks(execute=True):
        pusher.order(tenant.corp_id, "o1", fee=9900, days=30)
        pusher.order(tenant.corp_id, "o1", fee=9900, days=30, eventId="repeat")
        pusher.order(tenant.corp_id, "iap1", fee=500, mainGoodsCode="FW_GOODS-1",
                     goodsCode="FW_GOODS-IAP")
    changed = WebhookEvent.objects.filter(event_type="tenant.entitlement_changed")
    assert changed.count() == 1  # the repeat and the in-app order changed nothing
    data = changed.get().payload["data"]
    assert data["tenant"]["corp_id"] == tenant.corp_id
    assert (data["entitlement"]["kind"], data["entitlement"]["version"]) == ("paid", 1)
    assert data["entitlement"]["active_until"].endswith("Z")
    paid = WebhookEvent.objects.get(event_type="order.paid")
    assert paid.payload["data"]["order"]["order_id"] == "iap1"
    assert paid.payload["data"]["order"]["in_app_status"] == "paid"

    # Expiry: no push from DingTalk, the beat sweep tells the product.
    clock.advance(31 * 86400)
    with django_capture_on_commit_callbacks(execute=True):
        assert entitlements_sweep() == 1
    expired = changed.order_by("-created_at").first().payload["data"]["entitlement"]
    assert (expired["expired"], expired["active"], expired["version"]) == (True, False, 2)
