"""Tests for the ISV API signature (PROTOCOL 6.6, vector D)."""

import time
from urllib.parse import quote, urlencode

from dingtalk import signing

VECTOR_D_SIGNATURE = "LOZmXJzlQYpIu5emP6/1OF4hE3qlMzY/6y4FbDjXPbU="


def test_signing_vector_d():
    assert signing.sign("secret", 1636725918388, "ticket") == VECTOR_D_SIGNATURE
    assert signing.sign("secret", "1636725918388", "ticket") == VECTOR_D_SIGNATURE


def test_signing_vector_d_url_encoded_as_requests_does():
    query = urlencode({"signature": VECTOR_D_SIGNATURE})
    assert query == "signature=LOZmXJzlQYpIu5emP6%2F1OF4hE3qlMzY%2F6y4FbDjXPbU%3D"
    assert quote(VECTOR_D_SIGNATURE, safe="") in query


def test_signing_without_ticket_signs_the_timestamp_only():
    assert signing.sign("secret", 1636725918388, None) != VECTOR_D_SIGNATURE
    assert signing.sign("secret", 1636725918388, None) == signing.sign(
        "secret", 1636725918388, None
    )
    assert signing.sign("secret", 1636725918388, "") != signing.sign(
        "secret", 1636725918388, None
    )


def test_signing_signature_params_shape_and_clock():
    before = int(time.time() * 1000)
    params = signing.signature_params(access_key="suiteK", secret="s3", ticket="t1")
    after = int(time.time() * 1000)
    assert set(params) == {"accessKey", "timestamp", "suiteTicket", "signature"}
    assert params["accessKey"] == "suiteK"
    assert params["suiteTicket"] == "t1"
    assert before <= int(params["timestamp"]) <= after
    assert params["signature"] == signing.sign("s3", params["timestamp"], "t1")


def test_signing_signature_params_fixed_timestamp():
    params = signing.signature_params(
        access_key="k", secret="secret", ticket="ticket", timestamp_ms=1636725918388
    )
    assert params["timestamp"] == "1636725918388"
    assert params["signature"] == VECTOR_D_SIGNATURE


def test_signing_verify():
    assert signing.verify("secret", 1636725918388, "ticket", VECTOR_D_SIGNATURE)
    assert not signing.verify("secret", 1636725918389, "ticket", VECTOR_D_SIGNATURE)
    assert not signing.verify("other", 1636725918388, "ticket", VECTOR_D_SIGNATURE)
    assert not signing.verify("secret", 1636725918388, "ticket", "")
    assert not signing.verify("secret", 1636725918388, "ticket", "签名")
    assert not signing.verify("secret", 1636725918388, "ticket", None)


def test_signing_suite_credentials_sign_with_current_ticket():
    from dingtalk.credentials import IsvCorpCredentials, SuiteCredentials

    tickets = iter(["t1", "t2"])
    suite = SuiteCredentials("suiteK", "suite-secret-value", lambda: next(tickets))
    first = suite.signature_params()
    second = suite.signature_params()
    assert (first["suiteTicket"], second["suiteTicket"]) == ("t1", "t2")
    assert signing.verify("suite-secret-value", first["timestamp"], "t1", first["signature"])
    corp = IsvCorpCredentials(suite, "ding1", permanent_code="perm-code-value",
                              suite_access_token=lambda: "suite-token-value")
    assert corp.legacy and not IsvCorpCredentials(suite, "ding1", "perm-code-value").legacy
    assert corp.cache_key == "suite:suiteK:corp:ding1"
    for secret in ("suite-secret-value", "perm-code-value", "suite-token-value"):
        assert secret not in repr(corp)
    assert "suiteK" in repr(corp) and "ding1" in repr(corp)


def test_signing_app_credentials_repr_masks_secret():
    from dingtalk.credentials import AppCredentials, CorpSecretCredentials

    app = AppCredentials("dingappkey", "app-secret-value")
    corp = CorpSecretCredentials("dingcorp", "corp-secret-value")
    assert "app-secret-value" not in repr(app) and "dingappkey" in repr(app)
    assert "corp-secret-value" not in repr(corp) and "dingcorp" in repr(corp)
    assert (app.cache_key, corp.cache_key) == ("app:dingappkey", "corpsecret:dingcorp")
