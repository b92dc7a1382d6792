"""POST /callbacks/<suite_key>/: every rejected case, and no secret in logs or at rest."""

import json
import logging

import pytest
from django.db import connection

from tenants.models import CallbackEvent, SuiteTicket
from tenants.services.callbacks import CallbackTooLarge, callback_receive

from .factories import SuiteFactory, random_text
from .pushes import NONCE, TS, crypto_for, http_ticket, post, push, signed, sync_rows, user_row

pytestmark = pytest.mark.django_db


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


def test_callback_endpoint_signed_non_json_is_kept_and_answered_success(client):
    """Signed by DingTalk but not its JSON: stored for operators, answered success (any other
    answer makes DingTalk push it again up to 100 times)."""
    suite = SuiteFactory()
    for plaintext in ("not json at all", "[1, 2]", '{"TimeStamp": Infinity}', "[" * 100_000):
        response = push(client, suite, plaintext)
        assert response.status_code == 200 and set(response.json()) >= {"encrypt"}
    rows = CallbackEvent.objects.filter(suite=suite)
    assert rows.count() == 4
    assert set(rows.values_list("kind", "status")) == {("unparsed", "ignored")}
    kept = sorted(len(row.payload["unparsed_plaintext"]) for row in rows)
    assert kept == sorted(len(p) for p in ("not json at all", "[1, 2]",
                                           '{"TimeStamp": Infinity}', "[" * 100_000))


def test_callback_endpoint_unknown_suite_answers_like_a_bad_signature(client):
    """No probing for registered keys: an unknown key gets the bad signature's answer."""
    known = SuiteFactory()
    query, body = signed(known, {"EventType": "check_url"})
    forged = query.replace("signature=", "signature=0")
    bad_signature = post(client, known.suite_key, forged, body)
    unknown = post(client, "suitenotregistered", query, body)
    assert_error(unknown, 403, "callback_bad_signature")
    assert unknown.json() == bad_signature.json()


@pytest.mark.parametrize("key", ["%00", "suite%00x", "a%0acallback%20accepted", "x" * 65,
                                 "%E2%80%AE"])
def test_callback_endpoint_impossible_key_answers_like_a_bad_signature_without_a_query(
        client, key, django_assert_num_queries):
    known = SuiteFactory()
    query, body = signed(known, {"EventType": "check_url"})
    with django_assert_num_queries(0):
        response = post(client, key, query, body)
    assert_error(response, 403, "callback_bad_signature")


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


def _rejected_requests(client, suite, settings):
    """(expected status, send) for every rejected case of the endpoint."""
    ticket = http_ticket(suite, "ticket-secret-value", 8)
    query, body = signed(suite, ticket)
    url_key = suite.suite_key

    def too_large():
        limit, settings.CALLBACK_MAX_BODY_BYTES = settings.CALLBACK_MAX_BODY_BYTES, 64
        try:
            return post(client, url_key, query, body)
        finally:
            settings.CALLBACK_MAX_BODY_BYTES = limit

    return [
        (403, lambda: post(client, url_key, query.replace("signature=", "signature=f"), body)),
        (400, lambda: push(client, suite, ticket, aes=random_text(43))),
        (400, lambda: post(client, url_key, query.split("&nonce=")[0], body)),
        (400, lambda: post(client, url_key, query, b"not json")),
        (403, lambda: post(client, "suitenotregistered", query, body)),
        (413, too_large),
        (405, lambda: client.get(f"/callbacks/{url_key}/")),
    ], body


def test_callback_endpoint_logs_every_case_without_secrets(client, caplog, settings):
    suite = SuiteFactory(http_push=True)
    caplog.set_level(logging.INFO, logger="tenants.callbacks")
    push(client, suite, http_ticket(suite, "ticket-secret-value", 7))
    cases, body = _rejected_requests(client, suite, settings)
    for status, send in cases:
        caplog.clear()
        assert send().status_code == status
        records = [r for r in caplog.records if r.name == "tenants.callbacks"]
        assert len(records) == 1, (status, [r.getMessage() for r in records])
        text = records[0].getMessage()
        assert records[0].levelno == logging.WARNING and f"status={status}" in text
        for secret in ("ticket-secret-value", suite.callback_token, suite.encoding_aes_key,
                       suite.suite_secret, body["encrypt"]):
            assert secret not in text, (status, text)


def test_callback_endpoint_payload_encrypted_at_rest(client):
    suite = SuiteFactory(http_push=True)
    push(client, suite, http_ticket(suite, "ticket-at-rest", 7))
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM tenants_callbackevent")
        raw = cursor.fetchone()[0]
        cursor.execute("SELECT ticket FROM tenants_suiteticket")
        raw_ticket = cursor.fetchone()[0]
    assert "ticket-at-rest" not in raw and "ticket-at-rest" not in raw_ticket


@pytest.mark.parametrize("payload", [
    {"EventType": "suite_ticket", "SuiteTicket": "t1", "TimeStamp": 10**20},
    {"EventType": "tmp_auth_code", "AuthCode": "x", "AuthCorpId": "ding\x00", "TimeStamp": 5},
])
def test_callback_endpoint_unstorable_values_are_stored_and_answered(client, payload):
    """Signed but holding what PostgreSQL refuses in a column: stored (ids cleaned, the
    payload kept encrypted as sent), answered success, never a 500."""
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, payload)
    assert response.status_code == 200
    row = CallbackEvent.objects.get(suite=suite)
    assert "\x00" not in row.corp_id and row.payload


def test_callback_endpoint_body_cut_short_400(caplog):
    """The sender hangs up mid-body: a logged 400, never a 500."""
    from django.test import RequestFactory

    from tenants.views import suite_callback

    class _CutShort:
        def read(self, *args):
            raise ConnectionResetError("connection reset by peer")

    suite = SuiteFactory()
    request = RequestFactory().post(f"/callbacks/{suite.suite_key}/?signature=s&timestamp=1"
                                    "&nonce=n", data=b"{}", content_type="application/json")
    request._stream = _CutShort()
    caplog.set_level(logging.WARNING, logger="tenants.callbacks")
    response = suite_callback(request, suite.suite_key)
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "callback_unreadable"
    assert "status=400" in caplog.records[-1].getMessage()
    assert_nothing_stored()
