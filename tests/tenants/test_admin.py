"""The Django admin as a superuser: pages render, no secret reaches the HTML, actions work."""

import json
from datetime import timedelta

import pytest
from django.contrib.messages import constants
from django.urls import reverse
from django.utils import formats, timezone

from tenants.models import AccessToken, CallbackEvent, Suite, Tenant

from .conftest import authorized_tenant, corp_fetches
from .factories import (
    AccessTokenFactory,
    CallbackEventFactory,
    SuiteFactory,
    SuiteTicketFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"


@pytest.fixture
def world():
    """A suite with a ticket, a suite token, a legacy tenant with a corp token, and events."""
    suite = SuiteFactory(http_push=True)
    ticket = SuiteTicketFactory(suite=suite)
    suite_token = AccessTokenFactory(tenant=None, suite=suite, kind=AccessToken.Kind.SUITE,
                                     key=f"suite:{suite.suite_key}")
    tenant = TenantFactory(suite=suite, legacy=True,
                           auth_info={"permanent_code": "pc-in-auth-info-123",
                                      "auth_corp_info": {"corp_name": "Acme"}})
    corp_token = AccessTokenFactory(tenant=tenant)
    biz_data = json.dumps({"syncAction": "org_suite_auth", "permanent_code": "pc-in-biz-data",
                           "ch_permanent_code": "ch-pc-in-biz-data"})
    sync_event = CallbackEventFactory(
        suite=suite, kind="org_suite_auth", corp_id=tenant.corp_id,
        payload={"biz_type": 4, "biz_data": biz_data, "corp_id": tenant.corp_id},
        status=CallbackEvent.Status.FAILED, last_error="ApiError errcode 40078", attempts=2)
    http_event = CallbackEventFactory(
        suite=suite, kind="tmp_auth_code", corp_id=tenant.corp_id,
        payload={"EventType": "tmp_auth_code", "AuthCode": "auth-code-secret",
                 "SuiteTicket": "ticket-in-payload"})
    secrets = [suite.suite_secret, suite.callback_token, suite.encoding_aes_key, ticket.ticket,
               suite_token.value, tenant.permanent_code, corp_token.value, "pc-in-auth-info-123",
               "pc-in-biz-data", "ch-pc-in-biz-data", "auth-code-secret", "ticket-in-payload"]
    return {"suite": suite, "tenant": tenant, "sync_event": sync_event,
            "http_event": http_event, "suite_token": suite_token, "corp_token": corp_token,
            "secrets": secrets}


def admin_urls(world):
    suite, tenant = world["suite"], world["tenant"]
    return [
        reverse("admin:index"),
        reverse("admin:tenants_suite_changelist"),
        reverse("admin:tenants_suite_add"),
        reverse("admin:tenants_suite_change", args=[suite.pk]),
        reverse("admin:tenants_suite_history", args=[suite.pk]),
        reverse("admin:tenants_suite_delete", args=[suite.pk]),
        reverse("admin:tenants_tenant_changelist"),
        reverse("admin:tenants_tenant_changelist") + f"?q={tenant.corp_id}",
        reverse("admin:tenants_tenant_change", args=[tenant.pk]),
        reverse("admin:tenants_callbackevent_changelist"),
        reverse("admin:tenants_callbackevent_changelist")
        + f"?suite__id__exact={suite.pk}&status__exact=failed&kind=org_suite_auth",
        reverse("admin:tenants_callbackevent_changelist") + f"?q={tenant.corp_id}",
        reverse("admin:tenants_callbackevent_change", args=[world["sync_event"].pk]),
        reverse("admin:tenants_callbackevent_change", args=[world["http_event"].pk]),
        reverse("admin:tenants_accesstoken_changelist"),
        reverse("admin:tenants_accesstoken_change", args=[world["corp_token"].pk]),
        reverse("admin:tenants_accesstoken_change", args=[world["suite_token"].pk]),
    ]


def test_admin_pages_render_without_secrets(admin_client, world):
    for url in admin_urls(world):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in world["secrets"]:
            assert secret not in html, (url, secret)


def test_admin_suite_list_shows_state(admin_client, world):
    html = admin_client.get(reverse("admin:tenants_suite_changelist")).content.decode()
    assert world["suite"].suite_key in html
    assert " ago" in html  # ticket age
    assert "valid, expires in" in html  # suite token state


def test_admin_suite_without_ticket_or_token(admin_client):
    SuiteFactory()
    html = admin_client.get(reverse("admin:tenants_suite_changelist")).content.decode()
    assert "none yet" in html


def test_admin_event_payload_is_redacted_but_shown(admin_client, world):
    url = reverse("admin:tenants_callbackevent_change", args=[world["sync_event"].pk])
    html = admin_client.get(url).content.decode()
    assert "org_suite_auth" in html
    assert "********" in html
    assert "ApiError errcode 40078" in html


def test_admin_event_shows_when_a_worker_claimed_it(admin_client, world):
    event = world["sync_event"]
    claimed = timezone.now() - timedelta(minutes=3)
    CallbackEvent.objects.filter(pk=event.pk).update(claimed_at=claimed)
    stamp = formats.localize(timezone.template_localtime(claimed))
    change = reverse("admin:tenants_callbackevent_change", args=[event.pk])
    html = admin_client.get(change).content.decode()
    assert "Claimed at" in html and stamp in html
    changelist = admin_client.get(reverse("admin:tenants_callbackevent_changelist"))
    assert "column-claimed_at" in changelist.content.decode()


def test_admin_event_filters_select(admin_client, world):
    base = reverse("admin:tenants_callbackevent_changelist")
    response = admin_client.get(base + "?status__exact=failed")
    assert list(response.context["cl"].result_list) == [world["sync_event"]]
    response = admin_client.get(base + "?kind=tmp_auth_code")
    assert list(response.context["cl"].result_list) == [world["http_event"]]


def _secret_post(**overrides):
    data = {"suite_key": "suiteadmin1", "name": "Admin made", "suite_id": "123",
            "app_id": "456", "push_style": "sync_http", "message_api": "asyncsend_v2",
            "template_ids": "{}", "new_suite_secret": "admin-secret-1",
            "new_callback_token": "admintoken", "new_encoding_aes_key": AES_KEY}
    data.update(overrides)
    return data


def test_admin_suite_add_and_edit_keeps_blank_secrets(admin_client):
    response = admin_client.post(reverse("admin:tenants_suite_add"), _secret_post())
    assert response.status_code == 302
    suite = Suite.objects.get(suite_key="suiteadmin1")
    assert (suite.suite_secret, suite.callback_token) == ("admin-secret-1", "admintoken")

    change = reverse("admin:tenants_suite_change", args=[suite.pk])
    data = _secret_post(name="Renamed", new_suite_secret="", new_callback_token="",
                        new_encoding_aes_key="", message_api="sendbytemplate")
    data.pop("suite_key")
    assert admin_client.post(change, data).status_code == 302
    suite.refresh_from_db()
    assert suite.name == "Renamed"
    assert suite.message_api == "sendbytemplate"
    assert suite.suite_secret == "admin-secret-1"
    assert suite.encoding_aes_key == AES_KEY

    data["new_suite_secret"] = "admin-secret-2"
    assert admin_client.post(change, data).status_code == 302
    suite.refresh_from_db()
    assert suite.suite_secret == "admin-secret-2"
    assert suite.callback_token == "admintoken"


def test_admin_suite_add_requires_secrets(admin_client):
    response = admin_client.post(reverse("admin:tenants_suite_add"),
                                 _secret_post(new_suite_secret="", new_encoding_aes_key="short"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "new_suite_secret" in errors and "new_encoding_aes_key" in errors
    assert not Suite.objects.filter(suite_key="suiteadmin1").exists()
    html = response.content.decode()
    assert "admintoken" not in html  # password inputs never echo what was typed


def _action(admin_client, model, action, objects):
    url = reverse(f"admin:tenants_{model}_changelist")
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    return [(m.level, m.message) for m in response.context["messages"]]


def test_admin_tenant_suspend_and_resume(admin_client):
    tenants = TenantFactory.create_batch(2)
    messages = _action(admin_client, "tenant", "suspend", tenants)
    assert (constants.SUCCESS, "Suspend: 2 done.") in messages
    assert Tenant.objects.filter(suspended=True).count() == 2
    _action(admin_client, "tenant", "resume", tenants[:1])
    assert list(Tenant.objects.filter(suspended=True)) == [tenants[1]]


@pytest.mark.parametrize("action", ["refresh_token", "refresh_auth_info"])
def test_admin_tenant_refresh_failure_is_reported_not_500(admin_client, action):
    # No ticket was ever pushed and DINGTALK_BASE_URL points nowhere: the call must fail,
    # and the operator sees why instead of a server error.
    tenant = TenantFactory()
    messages = _action(admin_client, "tenant", action, [tenant])
    errors = [text for level, text in messages if level == constants.ERROR]
    assert len(errors) == 1
    assert tenant.corp_id in errors[0]
    # The operator reads what to do: DingTalk has not pushed this suite's ticket yet.
    assert "no_suite_ticket" in errors[0] and "has not pushed a suite_ticket" in errors[0]
    assert tenant.suite.suite_secret not in errors[0]


def test_admin_event_reprocess_requeues(admin_client, world, django_capture_on_commit_callbacks):
    event = world["sync_event"]
    with django_capture_on_commit_callbacks() as callbacks:
        messages = _action(admin_client, "callbackevent", "reprocess", [event])
    assert (constants.SUCCESS, "Reprocess: 1 done.") in messages
    event.refresh_from_db()
    assert (event.status, event.attempts) == (CallbackEvent.Status.PENDING, 0)
    assert len(callbacks) == 1  # the task is enqueued once the transaction commits


def test_admin_tenant_refresh_actions_reach_dingtalk(admin_client, emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    Tenant.objects.filter(pk=tenant.pk).update(corp_name="stale name", auth_scopes={})
    messages = _action(admin_client, "tenant", "refresh_auth_info", [tenant])
    assert (constants.SUCCESS, "Refresh auth info: 1 done.") in messages
    tenant.refresh_from_db()
    assert tenant.corp_name == corp["name"]
    assert tenant.auth_scopes["auth_org_scopes"]["authed_dept"] == [1]
    before = corp_fetches(emulator, tenant)
    messages = _action(admin_client, "tenant", "refresh_token", [tenant])
    assert (constants.SUCCESS, "Refresh token: 1 done.") in messages
    assert corp_fetches(emulator, tenant) == before + 1


def test_admin_tenant_call_budget_is_shown_and_set_without_touching_the_rest(admin_client,
                                                                            world):
    from tenants.models import MonthlyCallCount, Tenant
    from tenants.services.call_budget import current_month

    tenant = world["tenant"]
    MonthlyCallCount.objects.create(tenant=tenant, month=current_month(), calls=42)
    url = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    html = admin_client.get(url).content.decode()
    assert "42 (no budget)" in html  # a suite tenant has none by default
    # A callback moved the tenant meanwhile: the operator's save must not undo it.
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.APP_STOPPED)
    response = admin_client.post(url, {"monthly_call_budget": "300"})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.monthly_call_budget == 300 and tenant.status == Tenant.Status.APP_STOPPED
    assert "42 of 300" in admin_client.get(url).content.decode()
