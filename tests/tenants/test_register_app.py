"""manage.py register_app: options or environment, update in place, never prints secrets."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.models import Tenant
from tenants.services.clients import client_for

pytestmark = pytest.mark.django_db

AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
ENV = {"DINGTALK_APPSECRET": "env-app-secret", "DINGTALK_CORPSECRET": "env-corp-secret",
       "DINGTALK_APP_CALLBACK_TOKEN": "envtoken1", "DINGTALK_APP_ENCODING_AES_KEY": AES_KEY}


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def run(*args) -> str:
    out = StringIO()
    call_command("register_app", *args, stdout=out)
    return out.getvalue()


def test_register_app_from_options(clean_env):
    output = run("--corp-id", "dingcorpcli", "--appkey", "dingkeycli", "--appsecret",
                 "opt-app-secret", "--callback-token", "opttoken1", "--aes-key", AES_KEY,
                 "--agent-id", "1234", "--name", "CLI app", "--callback-trailing-key", "appkey")
    tenant = Tenant.objects.get(appkey="dingkeycli")
    assert (tenant.kind, tenant.corp_id, tenant.appsecret, tenant.callback_token,
            tenant.encoding_aes_key) == (Tenant.Kind.INTERNAL_APP, "dingcorpcli",
                                         "opt-app-secret", "opttoken1", AES_KEY)
    assert (tenant.agent_id, tenant.app_name, tenant.callback_trailing_key) == (
        1234, "CLI app", "appkey")
    assert "/callbacks/apps/dingkeycli/" in output and "registered" in output
    for secret in ("opt-app-secret", "opttoken1", AES_KEY):
        assert secret not in output


def test_register_app_from_environment_and_update(clean_env):
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    run("--corp-id", "dingcorpenv", "--appkey", "dingkeyenv", "--agent-id", "5")
    tenant = Tenant.objects.get(appkey="dingkeyenv")
    assert (tenant.appsecret, tenant.corpsecret, tenant.callback_token) == (
        "env-app-secret", "", "envtoken1")
    clean_env.setenv("DINGTALK_APPSECRET", "rotated-secret")
    output = run("--corp-id", "dingcorpenv", "--appkey", "dingkeyenv")
    tenant.refresh_from_db()
    assert (tenant.appsecret, tenant.agent_id) == ("rotated-secret", 5)
    assert Tenant.objects.count() == 1
    assert "updated" in output and "rotated-secret" not in output


def test_register_app_legacy_corpsecret(clean_env):
    clean_env.setenv("DINGTALK_CORPSECRET", "env-corp-secret")
    clean_env.setenv("DINGTALK_APPSECRET", "ignored-for-corpsecret-apps")
    output = run("--corp-id", "dingcorplegacy")
    tenant = Tenant.objects.get(corp_id="dingcorplegacy")
    assert (tenant.appkey, tenant.appsecret, tenant.corpsecret) == ("", "", "env-corp-secret")
    assert "legacy corpsecret" in output and "No callback configured" in output
    assert client_for(tenant).credentials.corpid == "dingcorplegacy"


def test_register_app_missing_secret_names_the_env_var(clean_env):
    with pytest.raises(CommandError, match="DINGTALK_APPSECRET"):
        run("--corp-id", "dingcorpx", "--appkey", "dingkeyx")
    with pytest.raises(CommandError, match="DINGTALK_CORPSECRET"):
        run("--corp-id", "dingcorpx")
    assert not Tenant.objects.exists()


def test_register_app_invalid_values_do_not_echo(clean_env):
    with pytest.raises(CommandError) as info:
        run("--corp-id", "dingcorpy", "--appkey", "dingkeyy", "--appsecret", "s3cr3t-value",
            "--callback-token", "tok-value", "--aes-key", "too-short-aes-key")
    message = str(info.value)
    assert "encoding_aes_key" in message
    assert "too-short-aes-key" not in message and "s3cr3t-value" not in message
    assert not Tenant.objects.exists()
