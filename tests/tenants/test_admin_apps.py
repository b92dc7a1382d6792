"""The internal apps' admin: pages render without secrets, write-only inputs, actions work."""

import pytest
from django.contrib.messages import constants
from django.urls import reverse

from tenants.models import AccessToken, CallbackEvent, Tenant

from .factories import AccessTokenFactory, CallbackEventFactory, InternalAppFactory

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"


@pytest.fixture
def apps():
    """An appkey app with a token and an event, and a legacy corpsecret app."""
    app = InternalAppFactory()
    legacy = InternalAppFactory(corpsecret_app=True)
    token = AccessTokenFactory(tenant=app, suite=None, kind=AccessToken.Kind.APP,
                               key=f"app:{app.appkey}")
    event = CallbackEventFactory(suite=None, tenant=app, corp_id=app.corp_id,
                                 payload={"EventType": "user_add_org", "CorpId": app.corp_id,
                                          "AuthCode": "auth-code-in-app-push"})
    secrets = [app.appsecret, app.callback_token, app.encoding_aes_key, legacy.corpsecret,
               legacy.callback_token, legacy.encoding_aes_key, token.value,
               "auth-code-in-app-push"]
    return {"app": app, "legacy": legacy, "token": token, "event": event, "secrets": secrets}


def test_admin_apps_pages_render_without_secrets(admin_client, apps):
    app, legacy = apps["app"], apps["legacy"]
    urls = [
        reverse("admin:tenants_internalapp_changelist"),
        reverse("admin:tenants_internalapp_changelist") + f"?q={app.appkey}",
        reverse("admin:tenants_internalapp_add"),
        reverse("admin:tenants_internalapp_change", args=[app.pk]),
        reverse("admin:tenants_internalapp_change", args=[legacy.pk]),
        reverse("admin:tenants_internalapp_history", args=[app.pk]),
        reverse("admin:tenants_internalapp_delete", args=[legacy.pk]),
        reverse("admin:tenants_tenant_changelist"),
        reverse("admin:tenants_tenant_changelist") + "?kind__exact=internal_app",
        reverse("admin:tenants_tenant_change", args=[app.pk]),
        reverse("admin:tenants_accesstoken_changelist"),
        reverse("admin:tenants_accesstoken_change", args=[apps["token"].pk]),
        reverse("admin:tenants_callbackevent_changelist"),
        reverse("admin:tenants_callbackevent_change", args=[apps["event"].pk]),
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in apps["secrets"]:
            assert secret not in html, (url, secret)
    change = admin_client.get(reverse("admin:tenants_internalapp_change", args=[app.pk]))
    assert f"/callbacks/apps/{app.appkey}/" in change.content.decode()
    listing = admin_client.get(reverse("admin:tenants_internalapp_changelist"))
    assert list(listing.context["cl"].result_list) == sorted(
        [app, legacy], key=lambda t: t.corp_id)  # only internal apps


def _post(**overrides):
    data = {"corp_id": "dingcorpadmin", "appkey": "dingkeyadmin", "app_name": "Admin made",
            "corp_name": "", "agent_id": "77", "callback_trailing_key": "corp_id",
            "new_appsecret": "admin-app-secret-1", "new_corpsecret": "",
            "new_callback_token": "admintoken", "new_encoding_aes_key": AES_KEY}
    data.update(overrides)
    return data


def test_admin_apps_add_and_edit_keeps_blank_secrets(admin_client):
    response = admin_client.post(reverse("admin:tenants_internalapp_add"), _post())
    assert response.status_code == 302
    tenant = Tenant.objects.get(appkey="dingkeyadmin")
    assert (tenant.kind, tenant.suite, tenant.appsecret, tenant.callback_token,
            tenant.agent_id) == (Tenant.Kind.INTERNAL_APP, None, "admin-app-secret-1",
                                 "admintoken", 77)

    change = reverse("admin:tenants_internalapp_change", args=[tenant.pk])
    data = _post(app_name="Renamed", new_appsecret="", new_callback_token="",
                 new_encoding_aes_key="")
    data.pop("appkey")
    data.pop("corp_id")
    assert admin_client.post(change, data).status_code == 302
    tenant.refresh_from_db()
    assert tenant.app_name == "Renamed"
    assert (tenant.appsecret, tenant.encoding_aes_key) == ("admin-app-secret-1", AES_KEY)
    data["new_appsecret"] = "admin-app-secret-2"
    assert admin_client.post(change, data).status_code == 302
    tenant.refresh_from_db()
    assert (tenant.appsecret, tenant.callback_token) == ("admin-app-secret-2", "admintoken")
    assert Tenant.objects.count() == 1


def test_admin_apps_add_refuses_bad_or_taken_values_without_echo(admin_client):
    response = admin_client.post(reverse("admin:tenants_internalapp_add"),
                                 _post(new_appsecret="", new_encoding_aes_key="short"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "new_appsecret" in errors and "new_encoding_aes_key" in errors
    assert "admintoken" not in response.content.decode()
    assert not Tenant.objects.exists()
    InternalAppFactory(appkey="dingkeyadmin")
    response = admin_client.post(reverse("admin:tenants_internalapp_add"), _post())
    assert response.status_code == 200
    assert "appkey" in response.context["adminform"].form.errors
    assert Tenant.objects.count() == 1


def test_admin_apps_legacy_corpsecret_app_added(admin_client):
    response = admin_client.post(reverse("admin:tenants_internalapp_add"), _post(
        appkey="", new_appsecret="", new_corpsecret="admin-corp-secret"))
    assert response.status_code == 302
    tenant = Tenant.objects.get(corp_id="dingcorpadmin")
    assert (tenant.appkey, tenant.corpsecret) == ("", "admin-corp-secret")


def test_admin_apps_actions(admin_client, emulator, make_app):
    tenant, _, remote = make_app()
    url = reverse("admin:tenants_internalapp_changelist")

    def act(action):
        response = admin_client.post(url, {"action": action, "_selected_action": [tenant.pk]},
                                     follow=True)
        return [(m.level, m.message) for m in response.context["messages"]]

    assert (constants.SUCCESS, "Refresh token: 1 done.") in act("refresh_token")
    assert emulator.counters()["token_fetches"]["gettoken"][remote["appkey"]] == 1
    assert (constants.SUCCESS, "Refresh scopes: 1 done.") in act("refresh_scopes")
    tenant.refresh_from_db()
    assert tenant.auth_scopes
    assert (constants.SUCCESS, "Suspend: 1 done.") in act("suspend")
    assert Tenant.objects.get(pk=tenant.pk).suspended
    assert (constants.SUCCESS, "Resume: 1 done.") in act("resume")


def test_admin_event_of_an_app_is_reprocessed(admin_client, apps,
                                              django_capture_on_commit_callbacks):
    event = apps["event"]
    CallbackEvent.objects.filter(pk=event.pk).update(status=CallbackEvent.Status.DEAD)
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(reverse("admin:tenants_callbackevent_changelist"),
                                     {"action": "reprocess", "_selected_action": [event.pk]})
    assert response.status_code == 302
    assert len(callbacks) == 1
