"""Migration 0007 (the data lifecycle): tenants relieved before it are scheduled per their
suite's policy, their grace counted from the migration, and the live ones stay live."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tenants.models import Tenant

BEFORE = [("tenants", "0006_monthly_call_budget")]


def _latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_lifecycle_migration_schedules_tenants_relieved_before_it():
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        Suite, OldTenant = old.get_model("tenants", "Suite"), old.get_model("tenants", "Tenant")
        suite = Suite.objects.create(suite_key="suitemig", suite_secret="s",
                                     callback_token="tok", encoding_aes_key="a" * 43)
        long_ago = timezone.now() - timedelta(days=400)
        OldTenant.objects.create(suite=suite, corp_id="dinggone", status="relieved",
                                 relieved_at=long_ago)
        OldTenant.objects.create(suite=suite, corp_id="dinghere", status="authorized")
        start = timezone.now()
        _latest()
        gone, here = Tenant.objects.get(corp_id="dinggone"), Tenant.objects.get(corp_id="dinghere")
        assert gone.data_status == Tenant.DataStatus.SCHEDULED
        assert gone.data_delete_after >= start + timedelta(days=30)
        assert (here.data_status, here.data_delete_after) == (Tenant.DataStatus.LIVE, None)
    finally:
        _latest()
