"""Admin-console SSO end to end against the emulator over HTTP: GET /sso/admin/?code= -> 302 to
the product with ?assertion=, POST /api/v1/sso/admin/redeem once with a key of a served suite;
replay, expiry, another suite's key, bad input, no session, no secret in pages or logs."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from api.services.keys import api_key_create
from config.log_format import ScrubSecrets
from identity.models import AdminSsoAssertion
from tests.api.conftest import key_client
from tests.conftest import advance_time
from tests.identity.sso_admin_world import make_admin_sso_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LANDING_URL = "/sso/admin/"
REDEEM_URL = "/api/v1/sso/admin/redeem"


@pytest.fixture
def world(emulator, make_suite):
    world = make_admin_sso_world(emulator, make_suite)
    world.key = api_key_create(name="product", suite=world.suite).plaintext
    return world


def _assertion(response) -> str:
    assert response.status_code == 302, response.content[:300]
    return parse_qs(urlsplit(response["Location"]).query)["assertion"][0]


def test_redirect_then_redeem_once(client, emulator, world):
    response = client.get(LANDING_URL, {"code": world.code(emulator)})
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("product.example", "/admin/sso")
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert not response.cookies  # no session, no CSRF cookie: nobody is logged in here
    assertion = _assertion(response)
    redeemed = key_client(world.key).post(REDEEM_URL, {"assertion": assertion}, format="json")
    assert redeemed.status_code == 200, redeemed.content[:300]
    body = redeemed.json()
    record = AdminSsoAssertion.objects.get()
    assert {k: body[k] for k in ("userid", "name", "email", "avatar", "is_sys", "corp_id",
                                 "corp_name")} == {
        "userid": world.admin["userid"], "name": world.admin["name"],
        "email": world.admin["email"], "avatar": world.admin["avatar"], "is_sys": True,
        "corp_id": world.corp["corp_id"], "corp_name": world.corp["name"]}
    assert body["tenant"]["corp_id"] == world.tenant.corp_id
    assert body["tenant"]["status"] == "authorized" and body["tenant"]["active"] is True
    assert body["issued_at"] and body["expires_at"] and record.redeemed_at is not None
    replay = key_client(world.key).post(REDEEM_URL, {"assertion": assertion}, format="json")
    assert replay.status_code == 409, replay.content[:300]
    assert replay.json()["error"]["code"] == "assertion_used"


def test_admin_of_unauthorized_corp_tenant_null(client, emulator, world):
    stranger = emulator.create_corp(users=3)
    assertion = _assertion(client.get(LANDING_URL, {"code": world.code(emulator, stranger)}))
    body = key_client(world.key).post(REDEEM_URL, {"assertion": assertion},
                                      format="json").json()
    assert (body["corp_id"], body["tenant"]) == (stranger["corp_id"], None)


def test_code_reused_is_a_clear_400(client, emulator, world):
    code = world.code(emulator)
    _assertion(client.get(LANDING_URL, {"code": code}))
    again = client.get(LANDING_URL, {"code": code})
    assert again.status_code == 400
    assert "text/html" in again["Content-Type"]
    assert "sso_admin_code_invalid" in again.content.decode()
    as_json = client.get(LANDING_URL, {"code": code}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400
    assert as_json.json()["error"]["code"] == "sso_admin_code_invalid"
    assert code not in again.content.decode() + as_json.content.decode()


def test_expired_assertion_410(client, emulator, world):
    assertion = _assertion(client.get(LANDING_URL, {"code": world.code(emulator)}))
    advance_time(emulator, 121)
    response = key_client(world.key).post(REDEEM_URL, {"assertion": assertion}, format="json")
    assert response.status_code == 410, response.content[:300]
    assert response.json()["error"]["code"] == "assertion_expired"


def test_another_suites_key_404_and_the_assertion_survives(client, emulator, world,
                                                          make_suite, make_app_side):
    assertion = _assertion(client.get(LANDING_URL, {"code": world.code(emulator)}))
    other_suite, _ = make_suite()
    _tenant, _corp, app_key = make_app_side()
    for key in (api_key_create(name="other", suite=other_suite).plaintext, app_key):
        refused = key_client(key).post(REDEEM_URL, {"assertion": assertion}, format="json")
        assert refused.status_code == 404, refused.content[:300]
        assert refused.json()["error"]["code"] == "assertion_not_found"
    ok = key_client(world.key).post(REDEEM_URL, {"assertion": assertion}, format="json")
    assert ok.status_code == 200


@pytest.mark.parametrize("body", [{}, {"assertion": ""}, {"assertion": 5},
                                  {"assertion": "a" * 201}, {"assertion": "a\x00b"},
                                  {"assertion": "forged:signature"}])
def test_redeem_bad_input_400(world, body):
    response = key_client(world.key).post(REDEEM_URL, body, format="json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    # The JSON parser refuses a NUL anywhere in the body first (parse_error).
    assert error["code"] in ("assertion_invalid", "parse_error") \
        or "assertion" in error["details"], error


def test_redeem_needs_a_key(client):
    assert key_client(None).post(REDEEM_URL, {"assertion": "x"}, format="json").status_code == 401


@pytest.mark.parametrize("query", ["code=a%00b", "code=" + "c" * 10240, "code=%E4%BD%A0%E5%A5%BD",
                                   "code=", "", "code=abc&isv=%00"])
def test_attackers_code_is_a_clear_400_without_any_call(client, emulator, world, query):
    before = emulator.counters()["calls"]
    response = client.get(f"{LANDING_URL}?{query}")
    assert response.status_code == 400
    assert "sso_admin_input_invalid" in response.content.decode()
    assert len(response.content) < 2000  # the 10 KB code is not echoed back
    assert emulator.counters()["calls"] == before
    assert not AdminSsoAssertion.objects.exists()


def test_dingtalk_down_502_and_not_configured_400(client, emulator, world):
    emulator.add_fault("sso/getuserinfo", drop=True, count=1)
    down = client.get(LANDING_URL, {"code": world.code(emulator)})
    assert down.status_code == 502 and "sso_admin_dingtalk_failed" in down.content.decode()
    world.credential.delete()
    missing = client.get(LANDING_URL, {"code": world.code(emulator)})
    assert missing.status_code == 400 and "sso_admin_not_configured" in missing.content.decode()


def test_only_get(client, world):
    assert client.post(LANDING_URL, {"code": "abc"}).status_code == 405


def test_no_admin_session_after_sso(client, emulator, world):
    _assertion(client.get(LANDING_URL, {"code": world.code(emulator)}))
    admin_page = client.get(reverse("admin:index"))
    assert admin_page.status_code == 302 and "/login/" in admin_page["Location"]
    assert "sessionid" not in client.cookies


def test_secret_never_in_admin_pages_logs_or_repr(admin_client, client, emulator, world,
                                                  caplog):
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(ScrubSecrets())  # what dingsuite's handlers do to every record
    assertion = _assertion(client.get(LANDING_URL, {"code": world.code(emulator)}))
    key_client(world.key).post(REDEEM_URL, {"assertion": assertion}, format="json")
    record = AdminSsoAssertion.objects.get()
    urls = [reverse("admin:identity_adminssocredential_changelist"),
            reverse("admin:identity_adminssocredential_change", args=[world.credential.pk]),
            reverse("admin:identity_adminssocredential_add"),
            reverse("admin:identity_adminssoassertion_changelist"),
            reverse("admin:identity_adminssoassertion_change", args=[record.pk]),
            reverse("admin:identity_tenantuser_changelist")
            + f"?tenant__id__exact={world.tenant.pk}&q=x"]
    for url in urls:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert world.sso_secret not in html and record.digest not in html, url
    from identity.services.sso_admin_client import sso_admin_api_for

    token = sso_admin_api_for(world.credential).sso_token().value
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "admin-console SSO" in logged  # the landing view did log
    for secret in (world.sso_secret, token, assertion, assertion.split(":")[0]):
        assert secret not in logged
    for value in (world.credential, record, sso_admin_api_for(world.credential)):
        assert world.sso_secret not in repr(value) and token not in repr(value)


def test_admin_saves_the_secret_write_only(admin_client, emulator, world):
    url = reverse("admin:identity_adminssocredential_change", args=[world.credential.pk])
    response = admin_client.post(url, {"corp_id": world.credential.corp_id, "name": "Renamed",
                                       "landing_url": "https://product.example/b",
                                       "suites": [world.suite.pk], "enabled": "on",
                                       "new_sso_secret": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    world.credential.refresh_from_db()
    assert (world.credential.name, world.credential.sso_secret) == ("Renamed", world.sso_secret)
    refused = admin_client.post(url, {"corp_id": world.credential.corp_id, "name": "x",
                                      "landing_url": "ftp://product.example/b",
                                      "suites": [world.suite.pk], "new_sso_secret": "new"})
    assert refused.status_code == 200 and "landing_url" in refused.content.decode()
    add = admin_client.post(reverse("admin:identity_adminssocredential_add"), {
        "corp_id": "dingnewisv", "landing_url": "https://p.example/", "new_sso_secret": ""})
    assert add.status_code == 200 and "the SSO secret is required" in add.content.decode()
