"""suite_register: validation, create, update in place; suite_get_by_key."""

import pytest

from tenants.errors import SuiteNotFound
from tenants.models import Suite
from tenants.selectors.suites import suite_get_by_key
from tenants.services.suites import SuiteInvalid, suite_register

from .factories import random_text

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"


def _register(**overrides):
    kwargs = {
        "suite_key": "suiteabc123",
        "suite_secret": "secret-" + random_text(20),
        "callback_token": "token123",
        "encoding_aes_key": AES_KEY,
        "suite_id": "14999999001",
        "app_id": "70001",
        "name": "Demo",
    }
    kwargs.update(overrides)
    return suite_register(**kwargs)


def test_suites_register_creates_with_defaults():
    suite = _register()
    assert suite.pk is not None
    stored = Suite.objects.get(suite_key="suiteabc123")
    assert stored.encoding_aes_key == AES_KEY
    assert stored.callback_token == "token123"
    assert stored.push_style == Suite.PushStyle.SYNC_HTTP
    assert stored.message_api == Suite.MessageApi.ASYNCSEND_V2
    assert stored.template_ids == {}


def test_suites_register_updates_in_place_and_keeps_unset_optionals():
    first = _register(template_ids={"notice": "tpl-1"}, push_style=Suite.PushStyle.HTTP)
    second = _register(suite_secret="rotated-secret", suite_id="", app_id="", name="",
                       template_ids=None, message_api=Suite.MessageApi.SEND_BY_TEMPLATE)
    assert second.pk == first.pk
    assert Suite.objects.count() == 1
    stored = Suite.objects.get(pk=first.pk)
    assert stored.suite_secret == "rotated-secret"
    assert stored.suite_id == "14999999001"
    assert stored.name == "Demo"
    assert stored.template_ids == {"notice": "tpl-1"}
    assert stored.message_api == Suite.MessageApi.SEND_BY_TEMPLATE
    # push_style is always given (it has a default), so an update resets it explicitly.
    assert stored.push_style == Suite.PushStyle.SYNC_HTTP


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("encoding_aes_key", AES_KEY[:-1]),
        ("encoding_aes_key", AES_KEY + "x"),
        ("encoding_aes_key", AES_KEY[:-1] + "+"),
        ("callback_token", "ab"),
        ("callback_token", "x" * 65),
        ("callback_token", "has space"),
        ("suite_secret", ""),
        ("suite_key", ""),
        ("suite_key", "suite/with/slash"),
        ("suite_id", "abc"),
        ("push_style", "stream"),
        ("message_api", "send"),
        ("template_ids", ["tpl"]),
        ("name", "n" * 101),
    ],
)
def test_suites_register_rejects_invalid_input(field, value):
    with pytest.raises(SuiteInvalid) as info:
        _register(**{field: value})
    assert info.value.code == "suite_invalid"
    assert field in info.value.extra["fields"]
    assert Suite.objects.count() == 0


def test_suites_register_error_never_echoes_secrets():
    with pytest.raises(SuiteInvalid) as info:
        _register(suite_secret="topsecret-value", callback_token="t", encoding_aes_key="short")
    text = str(info.value) + repr(info.value.extra)
    assert "topsecret-value" not in text
    assert "short" not in text


def test_suites_token_bounds_accepted():
    assert _register(callback_token="abc").callback_token == "abc"
    assert _register(callback_token="x" * 64).callback_token == "x" * 64


def test_suites_get_by_key():
    suite = _register()
    assert suite_get_by_key(suite_key="suiteabc123").pk == suite.pk
    with pytest.raises(SuiteNotFound) as info:
        suite_get_by_key(suite_key="nope")
    assert info.value.http_status == 404
