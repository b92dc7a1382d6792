"""/api/v1/webhooks/: a key manages its owner's endpoints only (another owner's are 404), the
secret is shown once (creation, rotation) and stored encrypted, bad input is a 400 that saves
nothing, a key limited to some tenants is refused."""

from __future__ import annotations

import pytest
from django.db import connection

from api.models import WebhookEndpoint
from api.services.keys import api_key_create
from tests.api.conftest import key_client
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks"
LIST = "/api/v1/webhooks/"


def _detail(pk: int, tail: str = "") -> str:
    return f"/api/v1/webhooks/{pk}/{tail}"


@pytest.fixture
def suite_client():
    suite = SuiteFactory()
    return suite, key_client(api_key_create(name="k", suite=suite).plaintext)


def test_webhooks_api_create_shows_the_secret_once_and_stores_it_encrypted(suite_client):
    suite, client = suite_client
    response = client.post(LIST, {"url": URL, "events": ["tenant.authorized"],
                                  "description": "crm"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["secret_masked"] == f"whsec_…{secret[-4:]}"
    assert body["events"] == ["tenant.authorized"] and body["is_active"] is True
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.suite_id == suite.pk and endpoint.secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM api_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    for response in (client.get(LIST), client.get(_detail(endpoint.pk))):
        assert response.status_code == 200
        assert secret not in response.content.decode()
    assert client.get(LIST).json()["results"][0]["id"] == endpoint.pk
    assert secret not in repr(endpoint) and secret not in str(endpoint)


def test_webhooks_api_update_rotate_delete(suite_client):
    _, client = suite_client
    created = client.post(LIST, {"url": URL}, format="json").json()
    assert created["events"] == []  # every type
    changed = client.patch(_detail(created["id"]), {"is_active": False,
                                                    "events": ["tenant.relieved"]},
                           format="json")
    assert changed.status_code == 200
    assert changed.json()["is_active"] is False and changed.json()["events"] == [
        "tenant.relieved"]
    rotated = client.post(_detail(created["id"], "rotate-secret/"))
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["secret_rotated_at"] is not None
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.secret == rotated.json()["secret"]
    assert client.delete(_detail(created["id"])).status_code == 204
    assert client.get(_detail(created["id"])).status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_api_another_owners_endpoints_are_not_found(suite_client):
    _, client_a = suite_client
    suite_b, app = SuiteFactory(), InternalAppFactory()
    client_b = key_client(api_key_create(name="b", suite=suite_b).plaintext)
    client_app = key_client(api_key_create(name="app", app=app).plaintext)
    mine = client_a.post(LIST, {"url": URL}, format="json").json()
    theirs = client_b.post(LIST, {"url": URL}, format="json").json()
    apps = client_app.post(LIST, {"url": URL}, format="json").json()
    assert WebhookEndpoint.objects.get(pk=apps["id"]).app_id == app.pk
    for client, own, foreign in [(client_a, mine, theirs), (client_b, theirs, apps),
                                 (client_app, apps, mine)]:
        assert [e["id"] for e in client.get(LIST).json()["results"]] == [own["id"]]
        for method, tail in [("get", ""), ("patch", ""), ("delete", ""),
                             ("post", "rotate-secret/")]:
            response = getattr(client, method)(_detail(foreign["id"], tail), {},
                                               format="json")
            assert response.status_code == 404, (method, tail, response.content)
            assert response.json()["error"]["code"] == "webhook_endpoint_not_found"
    for missing in (999_999, 2**63, 10**30):
        assert client_a.get(_detail(missing)).status_code == 404
    # Nothing of theirs changed: same secret, still there.
    assert WebhookEndpoint.objects.get(pk=theirs["id"]).secret == theirs["secret"]


@pytest.mark.parametrize(("body", "field_or_code"), [
    ({}, "url"),
    ({"url": "ftp://example.com/"}, "webhook_url_refused"),
    ({"url": "http://user:pw@93.184.216.34/"}, "webhook_url_refused"),
    ({"url": "http://127.0.0.1:9000/"}, "webhook_url_refused"),
    ({"url": "http://localhost/"}, "webhook_url_refused"),
    ({"url": "http://169.254.169.254/"}, "webhook_url_refused"),
    ({"url": URL, "events": ["tenant.exploded"]}, "events"),
    ({"url": URL, "events": "tenant.authorized"}, "events"),
    ({"url": URL, "is_active": "maybe"}, "is_active"),
    ({"url": "x" * 2001}, "url"),
])
def test_webhooks_api_bad_input_is_a_400_that_saves_nothing(suite_client, settings, body,
                                                            field_or_code):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    _, client = suite_client
    response = client.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == field_or_code or field_or_code in error["details"]
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_api_private_url_accepted_when_allowed(suite_client, settings):
    settings.API_WEBHOOK_ALLOW_PRIVATE = True
    _, client = suite_client
    assert client.post(LIST, {"url": "http://127.0.0.1:9000/"},
                       format="json").status_code == 201


def test_webhooks_api_patch_to_a_private_url_is_refused(suite_client, settings):
    _, client = suite_client
    created = client.post(LIST, {"url": URL}, format="json").json()
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    response = client.patch(_detail(created["id"]), {"url": "http://10.0.0.8/"}, format="json")
    assert response.status_code == 400
    assert WebhookEndpoint.objects.get(pk=created["id"]).url == URL


def test_webhooks_api_key_limited_to_some_tenants_is_refused_and_no_key_is_401():
    suite = SuiteFactory()
    limited = api_key_create(name="some", suite=suite, tenants=[TenantFactory(suite=suite)])
    client = key_client(limited.plaintext)
    for response in (client.get(LIST), client.post(LIST, {"url": URL}, format="json")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "webhook_forbidden"
    assert not WebhookEndpoint.objects.exists()
    assert key_client(None).get(LIST).status_code == 401
    assert key_client("dsk_nope_nope").post(LIST, {"url": URL}, format="json").status_code == 401
