"""Migrations 0005-0006 (a row per limiter key) carry the admissions still counting over."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from messaging.limiter import Rule
from messaging.limiter.database import DatabaseLimiter
from messaging.limiter.models import LimiterAdmission, LimiterKey

BEFORE = [("messaging", "0004_batch_window_resends")]
AFTER = [("messaging", "0006_limiterkey_oldest_ms")]
T = 1_700_000_000_000


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration_0005_carries_the_last_hour_of_admissions_over(monkeypatch):
    try:
        window = _migrate(BEFORE).get_model("messaging", "LimiterWindow")
        window.objects.bulk_create([
            window(key="app", window_start=0, used=0),  # the old lock row
            window(key="app", window_start=T - 10_000, used=40),
            window(key="app", window_start=T, used=25),
            window(key="egress", window_start=0, used=0),
            window(key="egress", window_start=T - 5_000, used=1),
            window(key="ancient", window_start=T - 7_200_000, used=99),  # long gone
        ])
        _migrate(AFTER)
        assert sorted(LimiterKey.objects.values_list("key", "total", "newest_ms")) == [
            ("app", 65, T), ("egress", 1, T - 5_000)]
        assert sorted(LimiterAdmission.objects.values_list("key", "admitted_ms", "amount")) == [
            ("app", T - 10_000, 40), ("app", T, 25), ("egress", T - 5_000, 1)]
        # The carried admissions count: 35 of the app's 100 are left until the first frees.
        monkeypatch.setattr("messaging.limiter.database.now_ms", lambda: T + 1_000)
        refused = DatabaseLimiter().acquire([Rule("app", 100, 60)], 36)
        assert (refused.blocking_rule, refused.retry_after_s) == ("app", 49.0)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
