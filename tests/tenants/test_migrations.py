"""Migration 0005 (two kinds of tenant) keeps the rows written before it valid."""

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tenants.models import AccessToken, CallbackEvent, Tenant

BEFORE = [("tenants", "0004_callbackevent_schedule")]
AFTER = [("tenants", "0005_internal_apps")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migrations_0005_keeps_suite_tenants_tokens_and_events():
    try:
        old = _migrate(BEFORE)
        suite = old.get_model("tenants", "Suite").objects.create(
            suite_key="suiteold", suite_secret="old-secret", callback_token="oldtoken",
            encoding_aes_key="a" * 43)
        tenant = old.get_model("tenants", "Tenant").objects.create(
            suite=suite, corp_id="dingoldcorp", corp_name="Old corp", permanent_code="pc-old")
        old.get_model("tenants", "AccessToken").objects.create(
            key="suite:suiteold:corp:dingoldcorp", kind="corp", suite=suite, tenant=tenant,
            value="old-token", expires_at=timezone.now())
        old.get_model("tenants", "CallbackEvent").objects.create(
            suite=suite, kind="contact_user", corp_id="dingoldcorp", dedupe_key="sync:13:1",
            payload={"biz_type": 13})
        _migrate(AFTER)
        # On to the latest migration, so today's models can read the rows.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        migrated = Tenant.objects.get(corp_id="dingoldcorp")
        assert (migrated.kind, migrated.suite.suite_key, migrated.permanent_code) == (
            Tenant.Kind.SUITE, "suiteold", "pc-old")
        assert (migrated.appkey, migrated.appsecret, migrated.corpsecret) == ("", "", "")
        assert migrated.callback_trailing_key == Tenant.TrailingKey.CORP_ID
        token = AccessToken.objects.get()
        assert (token.kind, token.suite_id, token.tenant_id, token.value) == (
            "corp", suite.pk, migrated.pk, "old-token")
        event = CallbackEvent.objects.get()
        assert (event.suite_id, event.tenant_id, event.payload) == (
            suite.pk, None, {"biz_type": 13})
        # The old uniqueness still holds for suite tenants.
        migrated.pk = None
        with pytest.raises(IntegrityError, match="uniq_tenant_suite_corp"):
            migrated.save()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
