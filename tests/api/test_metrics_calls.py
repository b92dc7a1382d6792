"""/metrics counts every DingTalk call by endpoint and errcode, and token fetches by kind."""

import pytest

from dingtalk.errors import NotFound
from tenants.services.clients import client_for
from tests.test_metrics import _samples, _value

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_metrics_calls_and_token_fetches_are_counted(client, emulator, make_app):
    tenant, corp, _ = make_app(users=3)
    before = _samples(client)
    user = corp["userids"][0]
    client_for(tenant).users.get(user)
    emulator.add_fault("user/get", errcode=60121, count=1)
    with pytest.raises(NotFound):
        client_for(tenant).users.get(user)
    after = _samples(client)

    def grew(name, **labels) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("dingsuite_dingtalk_calls_total", endpoint="user/get", errcode="0") == 1
    assert grew("dingsuite_dingtalk_calls_total", endpoint="user/get", errcode="60121") == 1
    assert grew("dingsuite_token_fetches_total", kind="app", suite="", outcome="ok") >= 1
    assert grew("dingsuite_dingtalk_call_seconds_count", endpoint="user/get") == 2
