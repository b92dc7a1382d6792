"""Operator services (refresh auth info, suspend, resume) and the Redis-less local store."""

import time

import pytest

from dingtalk.tokens import Token, TokenManager
from tenants.errors import TenantInactive
from tenants.models import AccessToken, Tenant
from tenants.services.clients import client_for
from tenants.services.tenants import tenant_refresh_auth_info, tenant_resume, tenant_suspend
from tenants.services.tokens import tenant_token_key
from tenants.token_store import LocalTokenStore, token_store
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_tenant_refresh_auth_info_rereads_dingtalk(emulator, make_suite, push_style):
    suite, _ = make_suite(push_style=push_style)
    corp = emulator.create_corp(users=5)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"], corp_name="stale name",
                           agent_id=1, auth_scopes={},
                           permanent_code=auth["permanent_code"] if push_style == "http" else "")
    refreshed = tenant_refresh_auth_info(tenant=tenant)
    assert refreshed.corp_name == corp["name"]
    assert refreshed.agent_id == auth["agent_id"]
    assert refreshed.auth_scopes["auth_org_scopes"]["authed_dept"] == [1]
    assert Tenant.objects.get(pk=tenant.pk).agent_id == auth["agent_id"]


def test_tenant_refresh_auth_info_refuses_a_relieved_tenant():
    with pytest.raises(TenantInactive):
        tenant_refresh_auth_info(tenant=TenantFactory(status=Tenant.Status.RELIEVED))


def test_tenant_suspend_and_resume(emulator, make_suite):
    suite, _ = make_suite()
    corp = emulator.create_corp(users=2)
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"])
    assert tenant_suspend(tenant=tenant).suspended is True
    with pytest.raises(TenantInactive):
        client_for(tenant)
    assert tenant_resume(tenant=tenant).suspended is False
    assert client_for(tenant).users.get(corp["userids"][0]).userid == corp["userids"][0]


def test_token_store_without_redis_url_is_local_and_durable(settings):
    settings.REDIS_URL = ""
    store = token_store()
    assert isinstance(store, LocalTokenStore)
    tenant = TenantFactory()
    key = tenant_token_key(tenant=tenant)
    fetched = []

    def fetch():
        fetched.append(1)
        return Token(value="local-token", expires_at=time.time() + 7200)

    assert TokenManager(store).get(key, fetch).value == "local-token"
    assert TokenManager(LocalTokenStore()).get(key, fetch).value == "local-token"
    assert len(fetched) == 1
    assert AccessToken.objects.filter(key=key).exists()
    store.delete(key, only_if_value="local-token")
    assert store.get(key) is None
