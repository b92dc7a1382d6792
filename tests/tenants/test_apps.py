"""Internal-app tenants: registration, constraints, client_for against the emulator, tokens."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from tenants.errors import AppInvalid, TenantInactive
from tenants.models import AccessToken, Tenant
from tenants.selectors.apps import app_find
from tenants.services.apps import app_register
from tenants.services.clients import client_for
from tenants.services.tenants import tenant_resume, tenant_suspend
from tenants.services.tokens import tenant_refresh_token, tenant_token_key

from .conftest import authorized_tenant, corp_fetches
from .factories import InternalAppFactory, SuiteFactory, TenantFactory, random_text

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"


def gettoken_fetches(emulator, name: str) -> int:
    """How many times the emulator answered gettoken for this appkey (or corp id)."""
    return emulator.counters()["token_fetches"].get("gettoken", {}).get(name, 0)


# Registration -------------------------------------------------------------------------------


def test_apps_register_creates_an_internal_app_with_encrypted_secrets():
    tenant = app_register(corp_id="dingcorpa", appkey="dingkeya", appsecret="app-secret-1",
                          callback_token="cbtoken1", encoding_aes_key=AES_KEY, agent_id=42,
                          app_name="HR")
    assert (tenant.kind, tenant.suite, tenant.status) == (
        Tenant.Kind.INTERNAL_APP, None, Tenant.Status.AUTHORIZED)
    assert tenant.authorized_at is not None
    assert (tenant.agent_id, tenant.callback_trailing_key) == (42, Tenant.TrailingKey.CORP_ID)
    with connection.cursor() as cursor:
        cursor.execute("SELECT appsecret, callback_token, encoding_aes_key FROM tenants_tenant "
                       "WHERE id = %s", [tenant.pk])
        raw = cursor.fetchone()
    for stored, plain in zip(raw, ("app-secret-1", "cbtoken1", AES_KEY), strict=True):
        assert stored and plain not in stored
    assert app_find(app_key="dingkeya") == tenant


def test_apps_register_update_keeps_unspecified_values():
    first = app_register(corp_id="dingcorpb", appkey="dingkeyb", appsecret="secret-one",
                         callback_token="cbtoken1", encoding_aes_key=AES_KEY, agent_id=7,
                         app_name="Ops", callback_trailing_key="appkey")
    again = app_register(corp_id="dingcorpb", appkey="dingkeyb", appsecret="secret-two")
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.appsecret == "secret-two"
    assert (again.callback_token, again.encoding_aes_key) == ("cbtoken1", AES_KEY)
    assert (again.agent_id, again.app_name, again.callback_trailing_key) == (7, "Ops", "appkey")
    assert Tenant.objects.count() == 1


def test_apps_register_legacy_corpsecret_app():
    tenant = app_register(corp_id="dingcorpc", corpsecret="corp-secret-1")
    assert (tenant.appkey, tenant.corpsecret, tenant.app_key_label) == (
        "", "corp-secret-1", "dingcorpc")
    assert tenant_token_key(tenant=tenant) == "corpsecret:dingcorpc"
    assert app_find(app_key="dingcorpc") == tenant
    rotated = app_register(corp_id="dingcorpc", corpsecret="corp-secret-2")
    assert rotated.pk == tenant.pk and rotated.corpsecret == "corp-secret-2"


@pytest.mark.parametrize(("fields", "bad"), [
    ({"corp_id": "dingcorp", "appkey": "dingkey"}, "appsecret"),
    ({"corp_id": "dingcorp"}, "appkey"),
    ({"corp_id": "dingcorp", "appkey": "ding/key", "appsecret": "s3cr3t-value"}, "appkey"),
    ({"corp_id": "", "appkey": "dingkey", "appsecret": "s3cr3t-value"}, "corp_id"),
    ({"corp_id": "dingcorp", "appkey": "dingkey", "appsecret": "s3cr3t-value",
      "corpsecret": "corp-s3cr3t"}, "corpsecret"),
    ({"corp_id": "dingcorp", "appkey": "dingkey", "appsecret": " s3cr3t-value "}, "appsecret"),
    ({"corp_id": "dingcorp", "appkey": "dingkey", "appsecret": "s3cr3t-value",
      "callback_token": "tok-value"}, "encoding_aes_key"),
    ({"corp_id": "dingcorp", "appkey": "dingkey", "appsecret": "s3cr3t-value",
      "callback_token": "tok-value", "encoding_aes_key": "too-short-aes-key"},
     "encoding_aes_key"),
    ({"corp_id": "dingcorp", "corpsecret": "corp-s3cr3t", "callback_trailing_key": "appkey"},
     "callback_trailing_key"),
    ({"corp_id": "dingcorp", "appkey": "dingkey", "appsecret": "s3cr3t-value",
      "agent_id": -1}, "agent_id"),
])
def test_apps_register_refuses_invalid_values_without_echoing_them(fields, bad):
    with pytest.raises(AppInvalid) as caught:
        app_register(**fields)
    assert bad in caught.value.extra["fields"]
    text = caught.value.message + repr(caught.value.extra)
    for secret in ("s3cr3t-value", "corp-s3cr3t", "tok-value", "too-short-aes-key"):
        assert secret not in text
    assert not Tenant.objects.exists()


def test_apps_register_refuses_an_appkey_of_another_corp_and_clashing_keys():
    app_register(corp_id="dingcorpd", appkey="dingkeyd", appsecret="secret-d")
    with pytest.raises(AppInvalid) as caught:
        app_register(corp_id="dingother", appkey="dingkeyd", appsecret="secret-x")
    assert "corp_id" in caught.value.extra["fields"]
    app_register(corp_id="dingcorpe", corpsecret="corp-secret-e")
    with pytest.raises(AppInvalid) as caught:  # would share /callbacks/apps/dingcorpe/
        app_register(corp_id="dingcorpf", appkey="dingcorpe", appsecret="secret-f")
    assert "appkey" in caught.value.extra["fields"]
    assert Tenant.objects.count() == 2


# Constraints --------------------------------------------------------------------------------


def test_apps_constraints_hold_in_the_database():
    suite = SuiteFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.create(corp_id="dingx", kind=Tenant.Kind.SUITE, suite=None)
    with pytest.raises(IntegrityError), transaction.atomic():  # an internal app has no suite
        InternalAppFactory(suite=suite)
    with pytest.raises(IntegrityError), transaction.atomic():  # and needs its credential
        InternalAppFactory(appsecret="")
    with pytest.raises(IntegrityError), transaction.atomic():  # never relieved
        InternalAppFactory(status=Tenant.Status.RELIEVED)
    app = InternalAppFactory()
    with pytest.raises(IntegrityError), transaction.atomic():  # one tenant per appkey
        InternalAppFactory(appkey=app.appkey)
    legacy = InternalAppFactory(corpsecret_app=True)
    with pytest.raises(IntegrityError), transaction.atomic():  # one corpsecret app per corp
        InternalAppFactory(corpsecret_app=True, corp_id=legacy.corp_id)
    tenant = TenantFactory(suite=suite)
    with pytest.raises(IntegrityError), transaction.atomic():  # one per (suite, corp)
        TenantFactory(suite=suite, corp_id=tenant.corp_id)
    # A corp can be a suite's tenant and have internal apps of its own, of both kinds.
    InternalAppFactory(corp_id=tenant.corp_id)
    InternalAppFactory(corp_id=tenant.corp_id)
    InternalAppFactory(corp_id=tenant.corp_id, corpsecret_app=True)
    assert Tenant.objects.filter(corp_id=tenant.corp_id).count() == 4


# client_for ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_apps_client_for_fetches_the_token_once_across_threads(emulator, make_app):
    tenant, corp, remote = make_app()
    userid = corp["userids"][0]
    barrier = threading.Barrier(20)
    names, errors = [], []

    def worker():
        barrier.wait()
        try:
            names.append(client_for(Tenant.objects.get(pk=tenant.pk)).users.get(userid).userid)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert names == [userid] * 20
    assert gettoken_fetches(emulator, remote["appkey"]) == 1
    row = AccessToken.objects.get(key=f"app:{remote['appkey']}")
    assert (row.kind, row.suite, row.tenant_id) == (AccessToken.Kind.APP, None, tenant.pk)
    assert client_for(tenant) is client_for(Tenant.objects.get(pk=tenant.pk))


def test_apps_client_for_a_legacy_corpsecret_app(emulator, make_app):
    tenant, corp, _ = make_app(corpsecret=True)
    assert client_for(tenant).users.get(corp["userids"][1]).userid == corp["userids"][1]
    assert gettoken_fetches(emulator, corp["corp_id"]) == 1
    assert AccessToken.objects.get(key=f"corpsecret:{corp['corp_id']}").tenant_id == tenant.pk
    tenant_refresh_token(tenant=tenant)
    assert gettoken_fetches(emulator, corp["corp_id"]) == 2


def test_apps_a_corp_both_suite_tenant_and_internal_app(emulator, make_suite, make_app):
    suite_tenant, corp = authorized_tenant(emulator, make_suite)
    app_tenant, _, remote = make_app(corp=corp)
    assert suite_tenant.corp_id == app_tenant.corp_id
    userid = corp["userids"][0]
    via_suite = client_for(suite_tenant)
    via_app = client_for(app_tenant)
    assert via_suite is not via_app
    assert via_suite.access_token().value != via_app.access_token().value
    assert via_suite.users.get(userid).userid == via_app.users.get(userid).userid == userid
    assert corp_fetches(emulator, suite_tenant) == 1
    assert gettoken_fetches(emulator, remote["appkey"]) == 1
    keys = set(AccessToken.objects.filter(tenant__corp_id=corp["corp_id"])
               .values_list("key", flat=True))
    assert keys == {tenant_token_key(tenant=suite_tenant), f"app:{remote['appkey']}"}


def test_apps_suspended_app_is_refused_and_resumes():
    tenant = InternalAppFactory()
    tenant_suspend(tenant=tenant)
    with pytest.raises(TenantInactive) as caught:
        client_for(tenant)
    assert caught.value.code == "tenant_inactive"
    assert "suspended" in caught.value.message
    tenant_resume(tenant=tenant)
    assert client_for(tenant).credentials.appkey == tenant.appkey


def test_apps_client_repr_hides_secrets():
    app, legacy = InternalAppFactory(), InternalAppFactory(corpsecret_app=True)
    text = repr(client_for(app)) + repr(client_for(legacy))
    assert app.appsecret not in text and legacy.corpsecret not in text


def test_apps_rotated_secret_gets_a_new_client():
    tenant = InternalAppFactory()
    before = client_for(tenant)
    rotated = app_register(corp_id=tenant.corp_id, appkey=tenant.appkey,
                           appsecret=random_text(40))
    after = client_for(rotated)
    assert after is not before
    assert after.credentials.appsecret == rotated.appsecret
    assert after.transport is before.transport  # internal apps share one connection pool
