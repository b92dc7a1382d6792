"""One tenant's failing recompute does not stop the entitlement sweep: the others are
recomputed, the failure is logged at error level with the tenant id and counted in the sweep's
report, and the failing tenant is retried by the next run."""

import logging

import pytest
from django.db import connection

from commerce.models import Entitlement
from commerce.services.sweep import commerce_sweep
from core import clock
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_verification(settings):
    settings.COMMERCE_VERIFY_ORDERS = False


def _refuse_updates_of(tenant) -> None:
    # A real PostgreSQL failure for this tenant's row only (DDL is rolled back with the test).
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse_entitlement() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'entitlement row refused by the test'; END $$
            LANGUAGE plpgsql""")
        cursor.execute(f"""
            CREATE TRIGGER test_refuse_entitlement BEFORE UPDATE ON commerce_entitlement
            FOR EACH ROW WHEN (NEW.tenant_id = {int(tenant.pk)})
            EXECUTE FUNCTION test_refuse_entitlement()""")


def _allow_updates() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_entitlement ON commerce_entitlement")


def test_sweep_goes_on_past_a_failing_tenant_and_retries_it(pusher_for, caplog):
    suite = SuiteFactory()
    pusher = pusher_for(suite)
    tenants = [TenantFactory(suite=suite) for _ in range(3)]
    for n, tenant in enumerate(tenants):
        pusher.order(tenant.corp_id, f"t{n}", fee=0, days=15, item="item_trial")
    broken = tenants[1]
    clock.advance(16 * 86400)
    _refuse_updates_of(broken)

    with caplog.at_level(logging.ERROR, logger="commerce"):
        report = commerce_sweep()
    assert (report.recomputed, report.failed) == (2, 1)
    assert report.failed_tenants == [broken.pk]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and str(broken.pk) in errors[0].getMessage()
    expired = dict(Entitlement.objects.values_list("tenant_id", "expired"))
    assert expired == {tenants[0].pk: True, broken.pk: False, tenants[2].pk: True}

    _allow_updates()
    report = commerce_sweep()
    assert (report.recomputed, report.failed) == (1, 0)
    assert Entitlement.objects.get(tenant=broken).expired is True
