"""Issue 8's defects in the callback endpoint, each a test that failed before the fix."""

import json
import logging

import pytest

from tenants.models import CallbackEvent, SuiteTicket, Tenant

from .factories import SuiteFactory
from .pushes import http_ticket, post, push, signed, sync_row, sync_rows

pytestmark = pytest.mark.django_db

DEEP_BODIES = [b"[" * 100_000, b'{"a":' * 50_000]


@pytest.mark.parametrize("body", DEEP_BODIES, ids=["arrays", "objects"])
def test_hardening_deep_json_unsigned_is_a_400_for_any_key(client, body):
    """Defect 1: parsed before the signature was checked, this raised RecursionError (500)."""
    known = SuiteFactory()
    query = "signature=abc&timestamp=1700000000000&nonce=n1"
    answers = [post(client, key, query, body) for key in (known.suite_key, "suiteunknown")]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["code"] == "callback_malformed"
    assert CallbackEvent.objects.count() == 0


def test_hardening_signed_deep_json_is_stored_and_answered_success(client):
    suite = SuiteFactory()
    response = push(client, suite, "[" * 100_000)
    assert response.status_code == 200
    assert CallbackEvent.objects.get(suite=suite).kind == "unparsed"


@pytest.mark.parametrize("path_key", ["%00", "suitetest%00x"])
def test_hardening_nul_in_the_path_is_refused_without_a_query(client, path_key, caplog,
                                                              django_assert_num_queries):
    """Defect 2: a NUL reached Suite.objects.get and PostgreSQL refused it (500)."""
    suite = SuiteFactory()
    query, body = signed(suite, {"EventType": "check_url"})
    caplog.set_level(logging.INFO, logger="tenants.callbacks")
    with django_assert_num_queries(0):
        response = post(client, path_key, query, body)
    assert response.status_code == 403
    assert all("\x00" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("payload", [
    '{"EventType": "suite_ticket", "SuiteTicket": "t", "TimeStamp": Infinity}',
    '{"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [{"biz_type": 2, "gmt_modified": '
    'Infinity, "biz_id": "1", "biz_data": "{}", "corp_id": "x", "subscribe_id": "1_0"}]}',
])
def test_hardening_signed_infinity_is_stored_and_answered_success(client, payload):
    """Defect 3: OverflowError (500), so DingTalk would push it again up to 100 times."""
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, payload)
    assert response.status_code == 200
    row = CallbackEvent.objects.get(suite=suite)
    assert row.payload  # kept for an operator to see
    assert not SuiteTicket.objects.filter(suite=suite).exists()


def test_hardening_ticket_naming_another_suite_is_refused(client):
    """Defect 4: A's ticket, encrypted with B's keys and posted to B, became B's ticket."""
    a, b = SuiteFactory(http_push=True), SuiteFactory(http_push=True)
    query, body = signed(b, http_ticket(a, "ticket-of-a", 1_700_000_000_000))
    response = post(client, b.suite_key, query, body)
    assert response.status_code == 400 and response.json()["code"] == "callback_wrong_suite"
    assert not SuiteTicket.objects.exists() and not CallbackEvent.objects.exists()


def test_hardening_sync_row_naming_another_suite_creates_no_tenant(client):
    """Defect 4: a row with subscribe_id=<B>_0 posted to A created a tenant under A."""
    a, b = SuiteFactory(), SuiteFactory()
    auth = {"syncAction": "org_suite_auth", "auth_corp_info": {"corpid": "dingX"}}
    row = sync_row(b, 4, str(b.suite_id), auth, corp_id="dingX")
    query, body = signed(a, sync_rows(row))
    response = post(client, a.suite_key, query, body)
    assert response.status_code == 400 and response.json()["code"] == "callback_wrong_suite"
    assert not CallbackEvent.objects.exists() and not Tenant.objects.exists()


def test_hardening_suite_key_from_the_url_is_logged_escaped(client, caplog):
    """Defect 5: a newline in the URL's key forged an 'accepted' log line."""
    suite = SuiteFactory()
    query, body = signed(suite, {"EventType": "check_url"})
    caplog.set_level(logging.INFO, logger="tenants.callbacks")
    forged = f"x%0acallback%20accepted%20suite={suite.suite_key}"
    post(client, forged, query, body)
    messages = [r.getMessage() for r in caplog.records if r.name == "tenants.callbacks"]
    assert messages and all("\n" not in m for m in messages)
    assert not any(m.startswith("callback accepted") for m in messages)


def test_hardening_sync_suites_need_their_suite_id():
    from tenants.errors import SuiteInvalid
    from tenants.services.suites import suite_register

    fields = {"suite_key": "suitenoid", "suite_secret": "s" * 10, "callback_token": "tok123",
              "encoding_aes_key": "a" * 43}
    with pytest.raises(SuiteInvalid) as info:
        suite_register(**fields, push_style="sync_http")
    assert "suite_id" in info.value.extra["fields"]
    assert suite_register(**fields, push_style="http").suite_id == ""


def test_hardening_reply_body_for_signed_junk_is_the_encrypted_success(client):
    from .pushes import reply_text

    suite = SuiteFactory()
    response = push(client, suite, json.dumps([1, 2]))
    assert reply_text(suite, response) == "success"


# Found by bench/faults.py ------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [
    '{"EventType": "suite_ticket", "SuiteKey": "KEY", "SuiteTicket": "\\ud800", '
    '"TimeStamp": 1700000000000}',
    '{"EventType": "x", "\\udbff": 1, "CorpId": "\\udc00"}',
    '{"EventType": "x", "d": ' + "[" * 950 + "]" * 950 + "}",
], ids=["lone-surrogate-value", "lone-surrogate-key", "nested-950"])
def test_hardening_signed_pushes_that_cannot_be_stored_as_parsed_are_kept(client, plaintext):
    """Lone surrogates (UTF-8 cannot encode them) and nesting that parses but cannot be
    serialised again once gave a 500; now the push is stored and answered success."""
    suite = SuiteFactory(http_push=True)
    response = push(client, suite, plaintext.replace("KEY", suite.suite_key))
    assert response.status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1


def test_hardening_signed_non_utf8_plaintext_is_kept(client):
    from .pushes import NONCE, TS, crypto_for, post

    suite = SuiteFactory(http_push=True)
    crypto = crypto_for(suite)
    raw = '{"EventType":"x","v":"\ud800"}'.encode("utf-8", "surrogatepass")
    # Encrypt the raw bytes as DingTalk's framing would: random16 + length + msg + key.
    import base64
    import os as _os
    import struct

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(suite.encoding_aes_key + "=")
    body = _os.urandom(16) + struct.pack(">I", len(raw)) + raw + suite.suite_key.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypt = base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()
    query = f"signature={crypto.signature(TS, NONCE, encrypt)}&timestamp={TS}&nonce={NONCE}"
    response = post(client, suite.suite_key, query, {"encrypt": encrypt})
    assert response.status_code == 200
    assert CallbackEvent.objects.filter(suite=suite).count() == 1


def test_hardening_non_text_charset_is_a_json_400_not_a_500():
    """Django fails building such a request before any view runs (LookupError -> 500)."""
    from werkzeug.test import Client

    from config.wsgi import application

    web = Client(application)
    answer = web.post("/callbacks/suitex/?signature=a&timestamp=1&nonce=n", data=b"{}",
                      content_type="application/json; charset=rot13")
    assert answer.status_code == 400
    assert json.loads(answer.get_data())["code"] == "bad_charset"
    fine = web.post("/callbacks/suitex/?signature=a&timestamp=1&nonce=n", data=b"{}",
                    content_type="application/json; charset=utf-8")
    assert fine.status_code == 400 and json.loads(fine.get_data())["code"] == "callback_malformed"


def test_hardening_gunicorn_access_log_escapes_the_path():
    import runpy
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" /
                              "gunicorn.conf.py"))
    logger = conf["EscapingLogger"](Config())
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/x", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/callbacks/x\ncallback accepted suite=real\x00\x1b/"}
    atoms = logger.atoms(SimpleNamespace(status="403 Forbidden", sent=10, headers=[]), [],
                         environ,
                         timedelta(milliseconds=3))
    assert "\n" not in atoms["U"] and "\x00" not in atoms["U"] and "\x1b" not in atoms["U"]
    assert "\\n" in atoms["U"]


def test_hardening_disallowed_host_logs_no_traceback():
    from config.log_filters import WithoutTraceback

    filters = logging.getLogger("django.security.DisallowedHost").filters
    assert any(isinstance(f, WithoutTraceback) for f in filters)
    record = logging.LogRecord("x", logging.ERROR, "f", 1, "Invalid HTTP_HOST", None,
                               (ValueError, ValueError("boom"), None))
    assert WithoutTraceback().filter(record) and record.exc_info is None
