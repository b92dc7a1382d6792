"""The admin's home shows each suite's health; the tenants list shows token state; a tenant
that never needs a permanent code is not shown as missing one."""

from datetime import timedelta

import pytest

from core import clock
from tenants.models import CallbackEvent, Tenant
from tests.tenants.factories import (
    AccessTokenFactory,
    CallbackEventFactory,
    SuiteFactory,
    SuiteTicketFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db


def _row(page: str, suite_key: str) -> str:
    start = page.rindex("<tr", 0, page.index(f'data-suite="{suite_key}"'))
    return page[start:page.index("</tr>", start)]


def test_admin_dashboard_shows_each_suites_health(admin_client):
    calm, troubled = SuiteFactory(name="A calm"), SuiteFactory(name="B troubled")
    SuiteTicketFactory(suite=calm)
    t1 = TenantFactory(suite=calm)
    AccessTokenFactory(tenant=t1, suite=calm, expires_at=clock.now() + timedelta(hours=1))
    TenantFactory(suite=troubled)  # active, no token: stale
    TenantFactory(suite=troubled, status=Tenant.Status.RELIEVED)
    CallbackEventFactory(suite=troubled, status=CallbackEvent.Status.FAILED)
    CallbackEventFactory(suite=troubled, status=CallbackEvent.Status.DEAD)
    CallbackEventFactory(suite=troubled, status=CallbackEvent.Status.DEAD)
    page = admin_client.get("/admin/").content.decode()
    assert "Suites at a glance" in page
    calm_row, bad_row = _row(page, calm.suite_key), _row(page, troubled.suite_key)
    assert "errornote" not in calm_row and "errornote" in bad_row
    assert "authorized: 1" in calm_row and "ago" in calm_row and "(stale)" not in calm_row
    assert "authorized: 1" in bad_row and "relieved: 1" in bad_row
    assert "none yet (stale)" in bad_row
    assert '<td class="tokens-stale">1</td>' in bad_row
    assert bad_row.split('class="events-failed"')[1].split("</td>")[0].endswith(">1</a>")
    assert bad_row.split('class="events-dead"')[1].split("</td>")[0].endswith(">2</a>")


def test_admin_dashboard_tenants_list_shows_token_state(admin_client):
    suite = SuiteFactory()
    fresh, old = TenantFactory(suite=suite), TenantFactory(suite=suite)
    AccessTokenFactory(tenant=fresh, suite=suite, expires_at=clock.now() + timedelta(hours=1))
    AccessTokenFactory(tenant=old, suite=suite, expires_at=clock.now() - timedelta(hours=3))
    page = admin_client.get("/admin/tenants/tenant/").content.decode()
    assert "valid for" in page and "expired 3" in page


def test_admin_dashboard_synchttp_tenant_is_not_missing_a_permanent_code(admin_client):
    tenant = TenantFactory(suite=SuiteFactory(push_style="sync_http"), permanent_code="")
    page = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert "not used (signed calls)" in page and "missing" not in page
    http = TenantFactory(suite=SuiteFactory(push_style="http"), permanent_code="")
    page = admin_client.get(f"/admin/tenants/tenant/{http.pk}/change/").content.decode()
    assert "missing (an HTTP-push suite" in page
