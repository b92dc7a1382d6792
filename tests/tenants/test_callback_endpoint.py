"""POST /callbacks/<suite_key>/: every accepted and rejected case of DingTalk's push."""

import json
import logging

import pytest
from django.db import connection

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from tenants.models import CallbackEvent, SuiteTicket
from tenants.selectors.suites import suite_ticket_current
from tenants.services.callbacks import CallbackTooLarge, callback_receive

from .factories import SuiteFactory, random_text

pytestmark = pytest.mark.django_db

TS, NONCE = "1700000000000", "nOnCe123"


def crypto_for(suite, *, key=None, aes=None, token=None):
    return CallbackCrypto(token=token or suite.callback_token,
                          encoding_aes_key=aes or suite.encoding_aes_key,
                          key=key or suite.suite_key)


def signed(suite, payload, **crypto_kwargs):
    """(query string, body) of a push, built with dingtalk.crypto."""
    crypto = crypto_for(suite, **crypto_kwargs)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    encrypt = crypto.encrypt(text)
    signature = crypto_for(suite).signature(TS, NONCE, encrypt)
    return f"signature={signature}&timestamp={TS}&nonce={NONCE}", {"encrypt": encrypt}


def post(client, suite_key, query, body):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/callbacks/{suite_key}/?{query}", data=data,
                       content_type="application/json")


def push(client, suite, payload, **crypto_kwargs):
    query, body = signed(suite, payload, **crypto_kwargs)
    return post(client, suite.suite_key, query, body)


def reply_text(suite, response, *, key=None):
    reply = response.json()
    assert set(reply) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    return crypto_for(suite, key=key).verify_and_decrypt(
        signature=reply["msg_signature"], timestamp=reply["timeStamp"],
        nonce=reply["nonce"], encrypt=reply["encrypt"])


def http_ticket(suite, ticket, ts):
    return {"SuiteKey": suite.suite_key, "EventType": "suite_ticket", "TimeStamp": ts,
            "SuiteTicket": ticket}


def sync_rows(*rows):
    return {"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": list(rows)}


def sync_row(suite, biz_type, biz_id, biz_data, *, corp_id="dingcorp1", modified=1_700_000_000_000):
    return {"gmt_create": modified, "gmt_modified": modified, "biz_type": biz_type,
            "open_cursor": 0, "subscribe_id": f"{suite.suite_id}_0", "id": modified % 100000,
            "biz_id": biz_id, "biz_data": json.dumps(biz_data), "corp_id": corp_id, "status": 0}


def user_row(suite, userid="user1", modified=1_700_000_000_000):
    return sync_row(suite, 13, userid, {"syncAction": "user_add_org", "userid": userid,
                                        "name": "Zhang San"}, modified=modified)


# Accepted pushes ---------------------------------------------------------------------------


def test_callback_endpoint_http_ticket_applied_inline(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory(http_push=True)
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, http_ticket(suite, "ticket-one", 1_700_000_000_000))
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert suite_ticket_current(suite=suite) == "ticket-one"
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status) == ("suite_ticket", CallbackEvent.Status.DONE)
    assert callbacks == []  # nothing left for Celery


def test_callback_endpoint_sync_ticket_row_applied_inline(client):
    suite = SuiteFactory()
    row = sync_row(suite, 2, suite.suite_id, {"syncAction": "suite_ticket",
                                              "suiteTicket": "sync-ticket"})
    response = push(client, suite, sync_rows(row))
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert suite_ticket_current(suite=suite) == "sync-ticket"


def test_callback_endpoint_older_ticket_does_not_replace_newer(client):
    suite = SuiteFactory(http_push=True)
    assert push(client, suite, http_ticket(suite, "newer", 2_000_000)).status_code == 200
    assert push(client, suite, http_ticket(suite, "older", 1_000_000)).status_code == 200
    assert suite_ticket_current(suite=suite) == "newer"
    assert SuiteTicket.objects.filter(suite=suite).count() == 2


def test_callback_endpoint_contact_row_stored_and_enqueued(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, {"EventType": "SYNC_HTTP_PUSH_MEDIUM",
                                        "bizData": [user_row(suite)]})
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status, event.corp_id) == (
        "contact_user", CallbackEvent.Status.PENDING, "dingcorp1")
    assert event.payload["biz_id"] == "user1"
    assert len(callbacks) == 1


def test_callback_endpoint_repeat_push_is_noop(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    query, body = signed(suite, sync_rows(user_row(suite)))
    with django_capture_on_commit_callbacks() as first:
        assert post(client, suite.suite_key, query, body).status_code == 200
    with django_capture_on_commit_callbacks() as again:
        response = post(client, suite.suite_key, query, body)
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert (len(first), len(again)) == (1, 0)


def test_callback_endpoint_repeat_of_same_row_reencrypted_is_noop(client):
    """DingTalk re-pushes with a new nonce and new ciphertext; the row is still the same."""
    suite = SuiteFactory()
    for _ in range(3):
        assert push(client, suite, sync_rows(user_row(suite))).status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1


def test_callback_endpoint_multi_row_push(client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    rows = [
        sync_row(suite, 2, suite.suite_id, {"syncAction": "suite_ticket", "suiteTicket": "t2"}),
        user_row(suite, "u1"),
        user_row(suite, "u2"),
        sync_row(suite, 14, "42", {"syncAction": "org_dept_create", "id": 42, "name": "R&D"}),
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, sync_rows(*rows))
    assert response.status_code == 200
    assert suite_ticket_current(suite=suite) == "t2"
    kinds = sorted(CallbackEvent.objects.filter(suite=suite).values_list("kind", flat=True))
    assert kinds == ["contact_dept", "contact_user", "contact_user", "suite_ticket"]
    assert CallbackEvent.objects.filter(status=CallbackEvent.Status.PENDING).count() == 3
    assert len(callbacks) == 1  # one on_commit hook enqueues all three


def test_callback_endpoint_same_dedupe_key_per_suite_only(client):
    one, two = SuiteFactory(suite_id="1001"), SuiteFactory(suite_id="1001")
    for suite in (one, two):
        assert push(client, suite, sync_rows(user_row(suite))).status_code == 200
    assert CallbackEvent.objects.count() == 2


def test_callback_endpoint_accepts_msg_signature_alias(client):
    suite = SuiteFactory()
    query, body = signed(suite, sync_rows(user_row(suite)))
    response = post(client, suite.suite_key, query.replace("signature=", "msg_signature="), body)
    assert response.status_code == 200


# Legacy URL checks -------------------------------------------------------------------------


def test_callback_endpoint_check_url_replies_success(client):
    suite = SuiteFactory()
    response = push(client, suite, {"EventType": "check_url"})
    assert response.status_code == 200
    assert reply_text(suite, response) == "success"


def test_callback_endpoint_check_update_suite_url_replies_random(client):
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, {"EventType": "check_update_suite_url", "Random": "brdkKLMW",
                                    "TestSuiteKey": suite.suite_key})
    assert response.status_code == 200
    assert reply_text(suite, response) == "brdkKLMW"


def test_callback_endpoint_check_create_suite_url_uses_create_suite_key(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory(http_push=True)
    payload = {"EventType": "check_create_suite_url", "Random": "LPIdSnlF",
               "TestSuiteKey": CREATE_SUITE_KEY}
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(client, suite, payload, key=CREATE_SUITE_KEY)
    assert response.status_code == 200
    assert reply_text(suite, response, key=CREATE_SUITE_KEY) == "LPIdSnlF"
    assert callbacks == []


def test_callback_endpoint_official_vector_a(client):
    """PROTOCOL 8.2 vector A, byte for byte, through the endpoint."""
    suite = SuiteFactory(callback_token="123456",
                         encoding_aes_key="4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij")
    encrypt = ("1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMei"
               "ZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUa"
               "thB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==")
    query = ("signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067"
             "&nonce=nEXhMP4r")
    response = post(client, suite.suite_key, query, {"encrypt": encrypt})
    assert response.status_code == 200
    assert reply_text(suite, response, key=CREATE_SUITE_KEY) == "LPIdSnlF"


def test_callback_endpoint_create_suite_key_only_for_the_create_check(client):
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, http_ticket(suite, "sneaky", 1), key=CREATE_SUITE_KEY)
    assert response.status_code == 400
    assert SuiteTicket.objects.count() == 0


# Rejected pushes ---------------------------------------------------------------------------


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert "Traceback" not in body["message"]


def assert_nothing_stored():
    assert CallbackEvent.objects.count() == 0
    assert SuiteTicket.objects.count() == 0


def test_callback_endpoint_bad_signature_403_nothing_stored(client):
    suite = SuiteFactory(http_push=True)
    query, body = signed(suite, http_ticket(suite, "forged", 5))
    bad = query.replace("signature=", "signature=0")
    assert_error(post(client, suite.suite_key, bad, body), 403, "callback_bad_signature")
    wrong_token = signed(suite, http_ticket(suite, "forged", 5))[1]
    forged_sig = crypto_for(suite, token="not-the-token").signature(TS, NONCE,
                                                                     wrong_token["encrypt"])
    query = f"signature={forged_sig}&timestamp={TS}&nonce={NONCE}"
    assert_error(post(client, suite.suite_key, query, wrong_token), 403,
                 "callback_bad_signature")
    assert_nothing_stored()


def test_callback_endpoint_wrong_aes_key_400(client):
    suite = SuiteFactory()
    response = push(client, suite, sync_rows(user_row(suite)), aes=random_text(43))
    assert_error(response, 400, "callback_undecryptable")
    assert_nothing_stored()


def test_callback_endpoint_other_suites_key_400(client):
    suite = SuiteFactory()
    response = push(client, suite, sync_rows(user_row(suite)), key="suiteotherkey")
    assert_error(response, 400, "callback_undecryptable")
    assert_nothing_stored()


@pytest.mark.parametrize("encrypt", ["!!!not base64!!!", "YWJj", "A" * 64, ""])
def test_callback_endpoint_garbage_encrypt_400(client, encrypt):
    suite = SuiteFactory()
    signature = crypto_for(suite).signature(TS, NONCE, encrypt)
    query = f"signature={signature}&timestamp={TS}&nonce={NONCE}"
    response = post(client, suite.suite_key, query, {"encrypt": encrypt})
    assert response.status_code == 400
    assert_nothing_stored()


def test_callback_endpoint_decrypted_non_json_400(client):
    suite = SuiteFactory()
    assert_error(push(client, suite, "not json at all"), 400, "callback_malformed")
    assert_error(push(client, suite, "[1, 2]"), 400, "callback_malformed")
    assert_nothing_stored()


def test_callback_endpoint_unknown_suite_404(client):
    suite = SuiteFactory.build(suite_key="suitenotregistered")
    query, body = signed(suite, {"EventType": "check_url"})
    assert_error(post(client, "suitenotregistered", query, body), 404, "suite_not_found")


def test_callback_endpoint_oversized_413(client, settings):
    settings.CALLBACK_MAX_BODY_BYTES = 1024
    suite = SuiteFactory()
    query, body = signed(suite, {"EventType": "check_url", "pad": "x" * 2000})
    assert_error(post(client, suite.suite_key, query, body), 413, "callback_too_large")
    assert_nothing_stored()


def test_callback_endpoint_oversized_real_length_413(settings):
    """The service checks the bytes it got, whatever Content-Length said."""
    settings.CALLBACK_MAX_BODY_BYTES = 16
    suite = SuiteFactory()
    with pytest.raises(CallbackTooLarge) as info:
        callback_receive(suite_key=suite.suite_key, signature="s", timestamp="1", nonce="n",
                         body=b"x" * 17)
    assert info.value.http_status == 413


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_callback_endpoint_only_post_405(client, method):
    suite = SuiteFactory()
    response = getattr(client, method)(f"/callbacks/{suite.suite_key}/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_callback_endpoint_missing_param_400(client, missing):
    suite = SuiteFactory()
    query, body = signed(suite, {"EventType": "check_url"})
    kept = "&".join(p for p in query.split("&") if not p.startswith(missing + "="))
    assert_error(post(client, suite.suite_key, kept, body), 400, "callback_malformed")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"encrypt": 5}', b"{}", b""])
def test_callback_endpoint_bad_body_400(client, body):
    suite = SuiteFactory()
    query, _ = signed(suite, {"EventType": "check_url"})
    assert_error(post(client, suite.suite_key, query, body), 400, "callback_malformed")


def test_callback_endpoint_csrf_exempt():
    from django.test import Client

    suite = SuiteFactory()
    response = push(Client(enforce_csrf_checks=True), suite, {"EventType": "check_url"})
    assert response.status_code == 200


# Secrets -----------------------------------------------------------------------------------


def test_callback_endpoint_logs_every_case_without_secrets(client, caplog):
    suite = SuiteFactory(http_push=True)
    caplog.set_level(logging.INFO, logger="tenants.callbacks")
    push(client, suite, http_ticket(suite, "ticket-secret-value", 7))
    query, body = signed(suite, http_ticket(suite, "ticket-secret-value", 8))
    post(client, suite.suite_key, query.replace("signature=", "signature=f"), body)
    push(client, suite, http_ticket(suite, "ticket-secret-value", 9), aes=random_text(43))
    client.get(f"/callbacks/{suite.suite_key}/")
    records = [r for r in caplog.records if r.name == "tenants.callbacks"]
    assert len(records) == 4
    text = "\n".join(r.getMessage() for r in records)
    assert "status=403" in text and "status=400" in text and "status=405" in text
    for secret in ("ticket-secret-value", suite.callback_token, suite.encoding_aes_key,
                   suite.suite_secret, body["encrypt"]):
        assert secret not in text


def test_callback_endpoint_payload_encrypted_at_rest(client):
    suite = SuiteFactory(http_push=True)
    push(client, suite, http_ticket(suite, "ticket-at-rest", 7))
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM tenants_callbackevent")
        raw = cursor.fetchone()[0]
        cursor.execute("SELECT ticket FROM tenants_suiteticket")
        raw_ticket = cursor.fetchone()[0]
    assert "ticket-at-rest" not in raw and "ticket-at-rest" not in raw_ticket


# Per-process suite cache -------------------------------------------------------------------


def test_callback_endpoint_secrets_rotated_elsewhere_still_accepted(client):
    """A process that cached the suite re-reads it before rejecting a push."""
    suite = SuiteFactory()
    assert push(client, suite, {"EventType": "check_url"}).status_code == 200  # now cached
    new_token, new_key = random_text(20), random_text(43)
    Suite = type(suite)
    # Another process rotates the secrets (bypassing this process's cache).
    rotated = Suite.objects.get(pk=suite.pk)
    rotated.callback_token, rotated.encoding_aes_key = new_token, new_key
    rotated.save()
    response = push(client, rotated, sync_rows(user_row(rotated)))
    assert response.status_code == 200
    assert reply_text(rotated, response) == "success"
    # And the old secrets are now refused.
    assert push(client, suite, sync_rows(user_row(suite, "u9"))).status_code == 403


def test_callback_endpoint_duplicate_rows_in_one_push_stored_once(
        client, django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    row = user_row(suite)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = push(client, suite, sync_rows(row, dict(row)))
    assert response.status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_callback_endpoint_concurrent_repeats_store_one_row():
    """Eight deliveries of the same push at once: one event, one ticket, all replied success."""
    import threading

    from django.db import connection as thread_connection

    suite = SuiteFactory(http_push=True)
    query, body = signed(suite, http_ticket(suite, "raced-ticket", 42))
    params = dict(part.split("=", 1) for part in query.split("&"))
    barrier, replies, errors = threading.Barrier(8), [], []

    def deliver():
        try:
            barrier.wait(timeout=10)
            replies.append(callback_receive(suite_key=suite.suite_key, body=json.dumps(body)
                                            .encode(), **params))
        except Exception as exc:
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(replies) == 8
    assert CallbackEvent.objects.filter(suite=suite).count() == 1
    assert SuiteTicket.objects.filter(suite=suite).count() == 1
    assert suite_ticket_current(suite=suite) == "raced-ticket"
