"""GET /api/v1/tenants/ and /api/v1/tenants/<corp_id>/: what a key sees, and nothing more."""

import pytest

from api.services.keys import api_key_create
from tenants.models import Tenant
from tenants.services.clients import client_for
from tests.api.conftest import key_client
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_tenants_list_shows_the_suites_tenants_only():
    mine, other = SuiteFactory(), SuiteFactory()
    tenants = [TenantFactory(suite=mine) for _ in range(3)]
    TenantFactory(suite=other)
    key = api_key_create(name="k", suite=mine).plaintext
    body = key_client(key).get("/api/v1/tenants/").json()
    assert {t["corp_id"] for t in body["results"]} == {t.corp_id for t in tenants}
    assert body["next"] is None


def test_tenants_list_filters_by_status_and_pages_with_a_cursor():
    suite = SuiteFactory()
    authorized = [TenantFactory(suite=suite) for _ in range(5)]
    TenantFactory(suite=suite, status=Tenant.Status.RELIEVED)
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    seen, url = [], "/api/v1/tenants/?status=authorized&page_size=2"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [t["corp_id"] for t in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(t.corp_id for t in authorized)
    bad = client.get("/api/v1/tenants/?status=nonsense")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]


def test_tenants_key_limited_to_some_tenants_sees_only_those():
    suite = SuiteFactory()
    a, b = TenantFactory(suite=suite), TenantFactory(suite=suite)
    client = key_client(api_key_create(name="k", suite=suite, tenants=[a]).plaintext)
    assert [t["corp_id"] for t in client.get("/api/v1/tenants/").json()["results"]] == [a.corp_id]
    assert client.get(f"/api/v1/tenants/{a.corp_id}/").status_code == 200
    assert client.get(f"/api/v1/tenants/{b.corp_id}/").status_code == 404


def test_tenants_detail_shows_state_and_token_without_secrets(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    tenant = side.tenants[0]
    token_value = client_for(tenant).work_notices._caller.token().value  # fetch one
    response = side.client.get(f"/api/v1/tenants/{tenant.corp_id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["corp_id"] == tenant.corp_id and body["kind"] == "suite"
    assert body["status"] == "authorized" and body["active"] is True
    assert body["agent_id"] == tenant.agent_id
    assert body["suite_key"] == tenant.suite.suite_key
    assert body["token"]["state"] == "valid" and body["token"]["expires_at"]
    assert token_value not in response.content.decode()
    assert tenant.suite.suite_secret not in response.content.decode()


def test_tenants_internal_app_key_sees_its_app_only(make_app_side, make_suite_side):
    app, corp, key = make_app_side()
    side = make_suite_side(tenants=1)
    client = key_client(key)
    body = client.get("/api/v1/tenants/").json()
    assert [t["corp_id"] for t in body["results"]] == [app.corp_id]
    detail = client.get(f"/api/v1/tenants/{app.corp_id}/").json()
    assert detail["kind"] == "internal_app" and detail["appkey"] == app.appkey
    assert app.appsecret not in str(detail)
    assert client.get(f"/api/v1/tenants/{side.tenants[0].corp_id}/").status_code == 404


@pytest.mark.parametrize("corp_id", ["nope", "x" * 300, "%00", "ding%2F..%2F"])
def test_tenants_unknown_or_hostile_corp_ids_are_404(corp_id):
    client = key_client(api_key_create(name="k", suite=SuiteFactory()).plaintext)
    response = client.get(f"/api/v1/tenants/{corp_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] in {"tenant_not_found", "not_found"}


def test_tenants_unknown_api_path_is_json_404():
    client = key_client(api_key_create(name="k", suite=SuiteFactory()).plaintext)
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_tenants_throttled_key_gets_429_with_retry_after():
    suite = SuiteFactory()
    TenantFactory(suite=suite)
    client = key_client(api_key_create(name="k", suite=suite, throttle_rate="2/min").plaintext)
    other = key_client(api_key_create(name="k2", suite=suite).plaintext)
    assert [client.get("/api/v1/tenants/").status_code for _ in range(2)] == [200, 200]
    third = client.get("/api/v1/tenants/")
    assert third.status_code == 429 and int(third["Retry-After"]) >= 1
    assert third.json()["error"]["code"] == "throttled"
    assert other.get("/api/v1/tenants/").status_code == 200  # per key, not global


def test_tenants_unknown_api_path_is_json_404_with_debug_on_too(settings):
    settings.DEBUG = True
    client = key_client(api_key_create(name="k", suite=SuiteFactory()).plaintext)
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
