"""Hostile bodies get a clear 4xx in the error shape and write nothing: too large, too deep,
NUL characters, NaN and Infinity."""

import json

import pytest

from api.services.keys import api_key_create
from messaging.models import Notification
from tests.api.conftest import key_client
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post():
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    client = key_client(api_key_create(name="k", suite=suite).plaintext)

    def send(raw: str):
        return client.generic("POST", f"/api/v1/tenants/{tenant.corp_id}/notifications/", raw,
                              content_type="application/json")

    return send


def _good(**extra) -> dict:
    return {"userid_list": ["u1"], "msg": {"msgtype": "text", "text": {"content": "hi"}},
            **extra}


@pytest.mark.parametrize(("raw", "says"), [
    ("[" * 5000 + "]" * 5000, "nested"),  # deeper than Python's recursion limit
    (json.dumps(_good(extra=json.loads("[" * 40 + "]" * 40))), "nested deeper than 32"),
    (json.dumps(_good()).replace('"hi"', '"h\\u0000i"'), "NUL"),
    (json.dumps(_good()).replace('"hi"', "NaN"), "JSON parse error"),
    (json.dumps(_good()).replace('"hi"', "Infinity"), "JSON parse error"),
    ('{"userid_list": ', "JSON parse error"),
])
def test_parsers_hostile_json_is_refused_and_writes_nothing(post, raw, says):
    response = post(raw)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert says in body["error"]["message"]
    assert set(body["error"]) == {"code", "message", "details"}
    assert "Traceback" not in response.content.decode()
    assert not Notification.objects.exists()


def test_parsers_a_body_past_the_limit_is_413_before_it_is_parsed(post, settings):
    settings.API_MAX_JSON_BYTES = 1000
    response = post(json.dumps(_good(userid_list=[f"user{i:05d}" for i in range(200)])))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Notification.objects.exists()
