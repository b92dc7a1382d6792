"""client_for / suite_api_for: the bridge to dingtalk/, its refusals and its pooling."""

import pytest

from tenants.errors import NoSuiteTicket, TenantInactive
from tenants.models import Tenant
from tenants.services.clients import client_for, suite_api_for
from tests.tenants.factories import SuiteFactory, SuiteTicketFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_clients_no_ticket_tells_the_operator():
    suite = SuiteFactory()
    with pytest.raises(NoSuiteTicket) as caught:
        suite_api_for(suite)
    assert "has not pushed a suite_ticket" in caught.value.message
    assert suite.suite_key in caught.value.message
    with pytest.raises(NoSuiteTicket):
        client_for(TenantFactory(suite=suite))


@pytest.mark.parametrize("changes", [
    {"status": Tenant.Status.RELIEVED},
    {"status": Tenant.Status.APP_STOPPED},
    {"suspended": True},
])
def test_clients_inactive_tenants_are_refused(changes):
    tenant = TenantFactory(**changes)
    SuiteTicketFactory(suite=tenant.suite)
    with pytest.raises(TenantInactive) as caught:
        client_for(tenant)
    assert caught.value.code == "tenant_inactive"


def test_clients_are_pooled_per_suite_and_corp(settings):
    settings.DINGTALK_BASE_URL = "http://127.0.0.1:9"
    tenant = TenantFactory()
    other = TenantFactory(suite=tenant.suite)
    SuiteTicketFactory(suite=tenant.suite)
    assert suite_api_for(tenant.suite) is suite_api_for(tenant.suite)
    assert client_for(tenant) is client_for(Tenant.objects.get(pk=tenant.pk))
    assert client_for(tenant) is not client_for(other)
    assert client_for(tenant).transport is client_for(other).transport
    settings.DINGTALK_BASE_URL = "http://127.0.0.1:10"
    assert client_for(tenant).transport.base_url.startswith("http://127.0.0.1:10")


def test_clients_repr_hides_secrets():
    tenant = TenantFactory(legacy=True, suite=SuiteFactory(http_push=True))
    SuiteTicketFactory(suite=tenant.suite)
    text = repr(client_for(tenant)) + repr(suite_api_for(tenant.suite))
    assert tenant.suite.suite_secret not in text
    assert tenant.permanent_code not in text
