"""identity's part of a tenant's data lifecycle against the real stores: what the relieve and
the deletion leave behind of the tenant's jsapi_ticket (a credential, not the customer's data)."""

import pytest

from core import clock
from dingtalk.tokens import Token
from identity.jsapi_tickets import jsapi_ticket_get, jsapi_ticket_key
from tenants.models import AccessToken
from tenants.services.lifecycle import tenant_data_delete
from tenants.services.tenants import tenant_relieve
from tenants.token_store import token_store
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path / "exports")


def test_identity_deletion_drops_the_jsapi_ticket_everywhere(emulator, make_suite):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    cached = jsapi_ticket_get(tenant=tenant)
    key = jsapi_ticket_key(tenant)
    assert token_store().get(key) is not None
    relieved = tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    # A process that fetched just before the relieve stores its copy just after it.
    token_store().set(key, Token(value=cached.stored, expires_at=clock.time() + 7200))
    deletion = tenant_data_delete(tenant=relieved, operator="test")
    assert token_store().get(key) is None
    assert not AccessToken.objects.filter(key=key).exists()
    with open(deletion.export_path, encoding="utf-8") as export:
        assert cached.ticket not in export.read()


def test_identity_relieve_drops_the_jsapi_ticket(emulator, make_suite):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    jsapi_ticket_get(tenant=tenant)
    tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    assert token_store().get(jsapi_ticket_key(tenant)) is None
