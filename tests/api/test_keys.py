"""API keys: hashed at rest, shown once, bound to an owner, revocable; 401 without one."""

import hashlib
import io

import pytest
from django.core.management import call_command

from api.errors import ApiKeyInvalid
from api.models import ApiKey
from api.services.keys import api_key_authenticate, api_key_create, api_key_revoke
from core import clock
from tests.api.conftest import key_client
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_keys_only_a_hash_is_stored():
    suite = SuiteFactory()
    created = api_key_create(name="product", suite=suite)
    row = ApiKey.objects.get(pk=created.api_key.pk)
    assert created.plaintext.startswith(f"dsk_{row.prefix}_")
    assert row.key_hash == hashlib.sha256(created.plaintext.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiKey.objects.filter(pk=row.pk).values().first().values())
    assert created.plaintext not in stored
    assert created.plaintext not in repr(created) and created.plaintext not in repr(row)


def test_keys_authenticate_finds_the_key_and_refuses_a_near_miss():
    created = api_key_create(name="product", suite=SuiteFactory())
    assert api_key_authenticate(plaintext=created.plaintext) == created.api_key
    assert api_key_authenticate(plaintext=created.plaintext[:-1] + "x") is None
    assert api_key_authenticate(plaintext="dsk_" + created.api_key.prefix) is None
    assert api_key_authenticate(plaintext="nonsense") is None
    assert api_key_authenticate(plaintext="dsk_" + "a" * 500) is None
    assert api_key_authenticate(plaintext="dsk_\x00abcdef_" + "s" * 40) is None
    assert api_key_authenticate(plaintext="dsk_ABCDEFGH_" + "s" * 40) is None


def test_keys_a_nul_in_a_presented_key_is_401_not_500(client):
    response = client.get("/api/v1/tenants/", HTTP_X_API_KEY="dsk_\x00abcdef_" + "s" * 40)
    assert response.status_code == 401


def test_keys_revoked_key_is_refused():
    created = api_key_create(name="product", suite=SuiteFactory())
    api_key_revoke(api_key=created.api_key)
    assert api_key_authenticate(plaintext=created.plaintext) is None
    response = key_client(created.plaintext).get("/api/v1/tenants/")
    assert response.status_code == 401


def test_keys_last_used_is_recorded_at_most_once_a_minute():
    created = api_key_create(name="product", suite=SuiteFactory())
    api_key_authenticate(plaintext=created.plaintext)
    first = ApiKey.objects.get(pk=created.api_key.pk).last_used_at
    assert first is not None
    api_key_authenticate(plaintext=created.plaintext)
    assert ApiKey.objects.get(pk=created.api_key.pk).last_used_at == first
    clock.advance(61)
    api_key_authenticate(plaintext=created.plaintext)
    assert ApiKey.objects.get(pk=created.api_key.pk).last_used_at > first


@pytest.mark.parametrize("case", ["no owner", "two owners", "suite tenant as app",
                                  "another suite's tenant", "no name", "bad rate"])
def test_keys_invalid_requests_are_refused_and_nothing_is_written(case):
    suite, other = SuiteFactory(), SuiteFactory()
    args = {"name": "k", "suite": suite}
    if case == "no owner":
        args["suite"] = None
    elif case == "two owners":
        args["app"] = TenantFactory(suite=suite)
    elif case == "suite tenant as app":
        args = {"name": "k", "app": TenantFactory(suite=suite)}
    elif case == "another suite's tenant":
        args["tenants"] = [TenantFactory(suite=other)]
    elif case == "no name":
        args["name"] = "  "
    else:
        args["throttle_rate"] = "fast"
    with pytest.raises(ApiKeyInvalid):
        api_key_create(**args)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer dsk_nope_nope", "Basic abc",
                                    "Bearer \x00"])
def test_keys_without_a_valid_key_the_api_answers_401(header):
    from rest_framework.test import APIClient

    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/tenants/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed",
                                                "invalid_api_key"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_keys_x_api_key_header_works_too(client):
    created = api_key_create(name="product", suite=SuiteFactory())
    response = client.get("/api/v1/tenants/", HTTP_X_API_KEY=created.plaintext)
    assert response.status_code == 200


def test_keys_create_api_key_command_prints_a_working_key():
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    out = io.StringIO()
    call_command("create_api_key", "--suite", suite.suite_key, "--name", "cli",
                 "--tenant", tenant.corp_id, stdout=out)
    plaintext = out.getvalue().strip()
    key = api_key_authenticate(plaintext=plaintext)
    assert key is not None and key.name == "cli"
    assert list(key.tenants.all()) == [tenant]


def test_keys_admin_creates_a_key_and_shows_it_once(admin_client):
    suite = SuiteFactory()
    response = admin_client.post("/admin/api/apikey/add/", {
        "name": "from admin", "suite": suite.pk, "throttle_rate": ""}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = ApiKey.objects.get(name="from admin")
    plaintext = next(m.split(": ", 1)[1] for m in shown if "not shown again" in m)
    assert api_key_authenticate(plaintext=plaintext) == key
    page = admin_client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert plaintext not in page and key.key_hash not in page


def test_keys_admin_revoke_action(admin_client):
    created = api_key_create(name="product", suite=SuiteFactory())
    admin_client.post("/admin/api/apikey/", {"action": "revoke",
                                             "_selected_action": [created.api_key.pk]})
    assert api_key_authenticate(plaintext=created.plaintext) is None
