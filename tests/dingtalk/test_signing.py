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
