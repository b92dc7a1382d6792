"""Reads the apps call: a tenant by suite and corp, the active tenants, the current ticket."""

import pytest

from tenants.errors import TenantNotFound
from tenants.models import Tenant
from tenants.selectors.suites import suite_ticket_current, suite_ticket_latest
from tenants.selectors.tenants import tenant_get, tenant_list_active

from .factories import SuiteFactory, SuiteTicketFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_selectors_tenant_get_and_not_found():
    tenant = TenantFactory()
    assert tenant_get(suite=tenant.suite, corp_id=tenant.corp_id) == tenant
    other_suite = SuiteFactory()
    with pytest.raises(TenantNotFound) as caught:
        tenant_get(suite=other_suite, corp_id=tenant.corp_id)
    assert caught.value.http_status == 404
    assert caught.value.extra == {"suite_key": other_suite.suite_key, "corp_id": tenant.corp_id}


def test_selectors_active_tenants_exclude_inactive_ones():
    suite = SuiteFactory()
    active = TenantFactory(suite=suite)
    TenantFactory(suite=suite, status=Tenant.Status.RELIEVED)
    TenantFactory(suite=suite, status=Tenant.Status.APP_STOPPED)
    TenantFactory(suite=suite, suspended=True)
    elsewhere = TenantFactory()
    assert list(tenant_list_active(suite=suite)) == [active]
    assert set(tenant_list_active()) == {active, elsewhere}


def test_selectors_current_ticket_is_the_newest_pushed_not_the_last_received():
    suite = SuiteFactory()
    assert suite_ticket_current(suite=suite) is None and suite_ticket_latest(suite=suite) is None
    SuiteTicketFactory(suite=suite, ticket="newer", pushed_at_ms=2_000)
    SuiteTicketFactory(suite=suite, ticket="older-arrived-late", pushed_at_ms=1_000)
    assert suite_ticket_current(suite=suite) == "newer"
    assert suite_ticket_latest(suite=suite).ticket == "newer"
