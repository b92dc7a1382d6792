"""manage.py register_suite: options or environment, update in place, never prints secrets."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.models import Suite

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
ENV = {"DINGTALK_SUITE_SECRET": "env-suite-secret", "DINGTALK_CALLBACK_TOKEN": "envtoken1",
       "DINGTALK_ENCODING_AES_KEY": AES_KEY}


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def run(*args) -> str:
    out = StringIO()
    call_command("register_suite", *args, stdout=out)
    return out.getvalue()


def test_register_suite_from_options(clean_env):
    output = run("--suite-key", "suitecli1", "--suite-secret", "opt-secret-value",
                 "--callback-token", "opttoken1", "--aes-key", AES_KEY, "--suite-id", "1234",
                 "--app-id", "5678", "--name", "CLI suite", "--push-style", "http",
                 "--message-api", "sendbytemplate", "--template-id", "notice=tpl-1")
    suite = Suite.objects.get(suite_key="suitecli1")
    assert (suite.suite_secret, suite.callback_token, suite.encoding_aes_key) == (
        "opt-secret-value", "opttoken1", AES_KEY)
    assert (suite.suite_id, suite.app_id, suite.push_style, suite.message_api) == (
        "1234", "5678", "http", "sendbytemplate")
    assert suite.template_ids == {"notice": "tpl-1"}
    assert "/callbacks/suitecli1/" in output
    assert "registered" in output
    for secret in ("opt-secret-value", "opttoken1", AES_KEY):
        assert secret not in output


def test_register_suite_from_environment_and_update(clean_env):
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    run("--suite-key", "suitecli2", "--suite-id", "99")
    suite = Suite.objects.get(suite_key="suitecli2")
    assert suite.suite_secret == "env-suite-secret"
    assert suite.callback_token == "envtoken1"

    clean_env.setenv("DINGTALK_SUITE_SECRET", "rotated-secret")
    output = run("--suite-key", "suitecli2")
    suite.refresh_from_db()
    assert suite.suite_secret == "rotated-secret"
    assert suite.suite_id == "99"
    assert Suite.objects.count() == 1
    assert "updated" in output and "rotated-secret" not in output


def test_register_suite_update_keeps_the_push_style_and_message_api(clean_env):
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    run("--suite-key", "suitecli7", "--push-style", "http", "--message-api", "sendbytemplate")
    clean_env.setenv("DINGTALK_SUITE_SECRET", "rotated-secret")
    output = run("--suite-key", "suitecli7")
    suite = Suite.objects.get(suite_key="suitecli7")
    assert (suite.push_style, suite.message_api) == ("http", "sendbytemplate")
    assert suite.suite_secret == "rotated-secret"
    assert "push style http" in output
    # SyncHTTP rows name their suite by suite id only, so switching needs one.
    with pytest.raises(CommandError, match="suite_id"):
        run("--suite-key", "suitecli7", "--push-style", "sync_http")
    run("--suite-key", "suitecli7", "--push-style", "sync_http", "--suite-id", "77")
    assert Suite.objects.get(suite_key="suitecli7").push_style == "sync_http"


def test_register_suite_option_wins_over_environment(clean_env):
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    run("--suite-key", "suitecli3", "--suite-secret", "from-option", "--suite-id", "33")
    assert Suite.objects.get(suite_key="suitecli3").suite_secret == "from-option"


def test_register_suite_missing_secret_names_the_env_var(clean_env):
    with pytest.raises(CommandError, match="DINGTALK_CALLBACK_TOKEN"):
        run("--suite-key", "suitecli4", "--suite-secret", "s", "--aes-key", AES_KEY)
    assert not Suite.objects.exists()


def test_register_suite_invalid_values_do_not_echo(clean_env):
    with pytest.raises(CommandError) as info:
        run("--suite-key", "suitecli5", "--suite-secret", "s3cr3t-value",
            "--callback-token", "tok-value", "--aes-key", "too-short-aes-key")
    message = str(info.value)
    assert "encoding_aes_key" in message
    assert "too-short-aes-key" not in message and "s3cr3t-value" not in message
    assert not Suite.objects.exists()


def test_register_suite_bad_template_pair(clean_env):
    with pytest.raises(CommandError, match="NAME=ID"):
        run("--suite-key", "suitecli6", "--suite-secret", "s", "--callback-token", "tok",
            "--aes-key", AES_KEY, "--template-id", "notice")
