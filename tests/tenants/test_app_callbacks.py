"""POST /callbacks/apps/<appkey>/: internal apps' pushes through the suites' hardened pipeline."""

import logging

import pytest

from tenants.models import CallbackEvent
from tenants.services.apps import app_register
from tenants.services.events import callback_event_process

from .conftest import wait_for
from .factories import InternalAppFactory, SuiteFactory, random_text
from .pushes import (
    app_post,
    app_reply_text,
    app_signed,
    contact_push,
    post,
    signed,
    user_row,
)

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.json()["code"] == code


def test_app_callback_contact_push_stored_against_the_app_and_kept(
        client, django_capture_on_commit_callbacks):
    tenant = InternalAppFactory()
    query, body = app_signed(tenant, contact_push(tenant.corp_id))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = app_post(client, tenant.appkey, query, body)
    assert response.status_code == 200
    assert app_reply_text(tenant, response) == "success"
    event = CallbackEvent.objects.get()
    assert (event.tenant_id, event.suite_id, event.kind, event.corp_id, event.status) == (
        tenant.pk, None, "contact_user", tenant.corp_id, CallbackEvent.Status.PENDING)
    assert len(callbacks) == 1
    # The same push again (DingTalk's retry) is one row.
    assert app_post(client, tenant.appkey, query, body).status_code == 200
    assert CallbackEvent.objects.count() == 1
    processed = callback_event_process(event_id=event.pk)
    assert (processed.status, processed.last_error) == (CallbackEvent.Status.DONE, "")


def test_app_callback_check_url_answered_and_done(client):
    tenant = InternalAppFactory()
    response = app_post(client, tenant.appkey,
                        *app_signed(tenant, {"EventType": "check_url"}))
    assert response.status_code == 200
    assert app_reply_text(tenant, response) == "success"
    event = CallbackEvent.objects.get(tenant=tenant)
    assert (event.kind, event.status) == ("check_url", CallbackEvent.Status.DONE)


def test_app_callback_other_events_are_ignored_with_a_note(client):
    tenant = InternalAppFactory()
    push = {"EventType": "bpms_task_change", "CorpId": tenant.corp_id, "TimeStamp": 5}
    assert app_post(client, tenant.appkey, *app_signed(tenant, push)).status_code == 200
    event = callback_event_process(event_id=CallbackEvent.objects.get(tenant=tenant).pk)
    assert event.status == CallbackEvent.Status.IGNORED
    assert "internal apps" in event.last_error


def test_app_callback_same_dedupe_key_for_a_suite_and_an_app_is_two_rows(client):
    suite, tenant = SuiteFactory(), InternalAppFactory(corp_id="dingcorp1")
    push = contact_push(tenant.corp_id)
    assert app_post(client, tenant.appkey, *app_signed(tenant, push)).status_code == 200
    query, body = signed(suite, {"EventType": "SYNC_HTTP_PUSH_MEDIUM",
                                 "bizData": [user_row(suite)]})
    assert post(client, suite.suite_key, query, body).status_code == 200
    assert CallbackEvent.objects.filter(tenant=tenant).count() == 1
    assert CallbackEvent.objects.filter(suite=suite).count() == 1


def test_app_callback_legacy_corpsecret_app_at_its_corp_id(client):
    tenant = InternalAppFactory(corpsecret_app=True)
    response = app_post(client, tenant.corp_id, *app_signed(tenant, contact_push(tenant.corp_id)))
    assert response.status_code == 200
    assert CallbackEvent.objects.get().tenant_id == tenant.pk


def test_app_callback_trailing_key_appkey_when_configured(client):
    tenant = InternalAppFactory(callback_trailing_key="appkey")
    push = contact_push(tenant.corp_id)
    assert_error(app_post(client, tenant.appkey, *app_signed(tenant, push)), 400,
                 "callback_undecryptable")
    response = app_post(client, tenant.appkey, *app_signed(tenant, push, key=tenant.appkey))
    assert response.status_code == 200
    assert app_reply_text(tenant, response, key=tenant.appkey) == "success"


def test_app_callback_bad_signature_403_nothing_stored(client):
    tenant = InternalAppFactory()
    query, body = app_signed(tenant, contact_push(tenant.corp_id), token="another-token")
    assert_error(app_post(client, tenant.appkey, query, body), 403, "callback_bad_signature")
    assert not CallbackEvent.objects.exists()


def test_app_callback_unknown_or_unconfigured_key_answers_like_a_bad_signature(client, caplog):
    tenant = InternalAppFactory()
    no_callback = InternalAppFactory(callback_token="", encoding_aes_key="")
    query, body = app_signed(tenant, contact_push(tenant.corp_id), token="another-token")
    bad = app_post(client, tenant.appkey, query, body)
    query, body = app_signed(tenant, contact_push(tenant.corp_id))
    caplog.set_level(logging.INFO, logger="tenants.callbacks")
    for key in ("dingnosuchkey", "ding'<bad>", no_callback.appkey):
        unknown = app_post(client, key, query, body)
        assert (unknown.status_code, unknown.content) == (bad.status_code, bad.content)
    assert not CallbackEvent.objects.exists()
    assert "nothing is registered" in caplog.text  # the reason is in the log only
    assert tenant.callback_token not in caplog.text


def test_app_callback_wrong_trailing_key_refused(client):
    tenant = InternalAppFactory()
    query, body = app_signed(tenant, contact_push(tenant.corp_id), key="dingothercorp")
    assert_error(app_post(client, tenant.appkey, query, body), 400, "callback_undecryptable")
    assert not CallbackEvent.objects.exists()


def test_app_callback_push_naming_another_corp_refused(client):
    tenant = InternalAppFactory()
    response = app_post(client, tenant.appkey, *app_signed(tenant, contact_push("dingother")))
    assert_error(response, 400, "callback_wrong_suite")
    assert not CallbackEvent.objects.exists()


def test_app_callback_signed_non_json_is_kept_and_answered_success(client):
    tenant = InternalAppFactory()
    response = app_post(client, tenant.appkey, *app_signed(tenant, "not json {"))
    assert response.status_code == 200
    assert app_reply_text(tenant, response) == "success"
    event = CallbackEvent.objects.get(tenant=tenant)
    assert (event.kind, event.status) == ("unparsed", CallbackEvent.Status.IGNORED)


def test_app_callback_malformed_requests_refused_alike(client):
    tenant = InternalAppFactory()
    query, body = app_signed(tenant, contact_push(tenant.corp_id))
    assert_error(app_post(client, tenant.appkey, "timestamp=1&nonce=x", body), 400,
                 "callback_malformed")
    assert_error(app_post(client, tenant.appkey, query, {"encrypt": 5}), 400,
                 "callback_malformed")
    assert client.get(f"/callbacks/apps/{tenant.appkey}/").status_code == 405


def test_app_callback_rotated_secrets_are_picked_up_at_once(client):
    tenant = InternalAppFactory()
    assert app_post(client, tenant.appkey, *app_signed(tenant, {"EventType": "check_url"})
                    ).status_code == 200  # cached now
    rotated = app_register(corp_id=tenant.corp_id, appkey=tenant.appkey,
                           callback_token=random_text(20), encoding_aes_key=random_text(43))
    response = app_post(client, tenant.appkey, *app_signed(rotated, contact_push(rotated.corp_id)))
    assert response.status_code == 200
    assert app_reply_text(rotated, response) == "success"


@pytest.mark.django_db(transaction=True)
def test_app_callback_processed_by_the_worker(client, celery_worker):
    tenant = InternalAppFactory()
    response = app_post(client, tenant.appkey, *app_signed(tenant, contact_push(tenant.corp_id)))
    assert response.status_code == 200
    wait_for(lambda: CallbackEvent.objects.filter(
        tenant=tenant, status=CallbackEvent.Status.DONE).exists(), what="the event to be done")
