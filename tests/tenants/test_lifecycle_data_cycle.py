"""The data lifecycle end to end on PostgreSQL: tenants authorized through the emulator's pushes
to the live endpoint, SSO users, notifications sent by the session's Celery worker, webhook
events; then the relieve, the export, the grace running out, the sweep and the audit row."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from api.services.webhooks import webhook_endpoint_create
from identity.services.sso import sso_user_exchange
from messaging.models import Notification
from messaging.services.notifications import notification_create
from tenants.lifecycle import parts
from tenants.models import AccessToken, CallbackEvent, Tenant, TenantDeletion
from tenants.selectors.suites import suite_ticket_current
from tenants.services.lifecycle import tenant_data_sweep
from tests.conftest import advance_time
from tests.tenants.conftest import unique_corp_id, wait_for
from tests.tenants.factories import TenantFactory
from tests.tenants.lifecycle_support import tenant_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DAY = 86400
# Tables a re-authorization adds to by itself (its own push, its own webhook event).
GROWS_ON_REAUTH = {"tenants.CallbackEvent", "api.WebhookEvent"}
SETTLED = (Notification.Status.SENT, Notification.Status.COMPLETED)
# Kept past the deletion for accounting, their personal fields blanked (commerce/lifecycle.py).
FOR_ACCOUNTING = {"commerce.MarketOrder"}


@pytest.fixture(autouse=True)
def _exports(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path


def _settled(suite) -> bool:
    busy = (CallbackEvent.Status.PENDING, CallbackEvent.Status.PROCESSING,
            CallbackEvent.Status.FAILED)
    return not CallbackEvent.objects.filter(suite=suite, status__in=busy).exists()


def _tenant(suite, corp_id, **where):
    return Tenant.objects.select_related("suite").filter(suite=suite, corp_id=corp_id,
                                                         **where).first()


@pytest.fixture
def world(celery_worker, live_server, emulator, make_suite):
    """An HTTP-push suite (permanent codes) with two authorized corps, each with SSO users, a
    sent notification and webhook events."""
    suite, _ = make_suite(push_style="http", with_ticket=False,
                          callback_url=live_server.url + "/callbacks/{suite_key}/")
    ticket = emulator.push_ticket(suite.suite_key)
    wait_for(lambda: suite_ticket_current(suite=suite) == ticket, what="the ticket")
    webhook_endpoint_create(url="http://127.0.0.1:9/hook", suite=suite)
    tenants, secrets = {}, {}
    for _ in range(2):
        corp = emulator.create_corp(users=6, corp_id=unique_corp_id())
        auth = emulator.authorize(suite.suite_key, corp["corp_id"])
        tenant = wait_for(lambda c=corp: _tenant(suite, c["corp_id"],
                                                 status=Tenant.Status.AUTHORIZED),
                          timeout=30, what="the authorization")
        for userid in corp["userids"][:2]:
            sso_user_exchange(tenant=tenant, code=emulator.sso_code(
                corp["corp_id"], userid, suite_key=suite.suite_key))
        n = notification_create(tenant=tenant, userids=corp["userids"][:4],
                                msg={"msgtype": "text", "text": {"content": "hello"}})
        wait_for(lambda n=n: Notification.objects.filter(pk=n.pk, status__in=SETTLED).exists(),
                 timeout=60, what="the notification sent by the worker")
        token = AccessToken.objects.get(tenant=tenant).value
        tenants[corp["corp_id"]] = tenant
        secrets[corp["corp_id"]] = [auth["permanent_code"], token]
    wait_for(lambda: _settled(suite), timeout=30, what="every push processed")
    return suite, tenants, secrets


def _relieve(emulator, suite, corp_id) -> Tenant:
    emulator.relieve(suite.suite_key, corp_id)
    tenant = wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.RELIEVED),
                      timeout=30, what="the relieve")
    wait_for(lambda: _settled(suite), timeout=30, what="the relieve processed")
    return tenant


def test_lifecycle_full_cycle_relieve_export_grace_sweep_audit(world, emulator, _exports):
    suite, tenants, secrets = world
    gone_id, kept_id = list(tenants)
    tenant = _relieve(emulator, suite, gone_id)
    assert tenant.data_status == Tenant.DataStatus.SCHEDULED
    assert tenant.data_delete_after == tenant.relieved_at + timedelta(days=30)
    before, other_before = tenant_rows(tenant), tenant_rows(tenants[kept_id])
    for label in ("identity.TenantUser", "messaging.Notification", "messaging.Recipient",
                  "messaging.NotificationBatch", "messaging.LedgerEntry",
                  "tenants.CallbackEvent", "api.WebhookEvent"):
        assert before.get(label, 0) > 0, label

    out = _exports / "customer.json"
    call_command("tenant_export", gone_id, "--suite", suite.suite_key, "--out", str(out))
    text = out.read_text()
    assert set(json.loads(text)["parts"]) == {part.name for part in parts()}
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    for secret in [*secrets[gone_id], suite.suite_secret, suite.callback_token,
                   suite.encoding_aes_key]:
        assert secret not in text

    advance_time(emulator, 29 * DAY)
    assert tenant_data_sweep() == []
    assert tenant_rows(tenant) == before
    advance_time(emulator, 2 * DAY)
    [deletion] = tenant_data_sweep()

    assert tenant_rows(tenant) == {k: n for k, n in before.items() if k in FOR_ACCOUNTING}
    # The other tenant lost nothing (its worker-driven work may still add a webhook event).
    other_after = tenant_rows(tenants[kept_id])
    assert other_after.keys() == other_before.keys()
    assert all(other_after[k] >= n for k, n in other_before.items()), other_after
    stored = TenantDeletion.objects.get(corp_id=gone_id)
    assert stored.pk == deletion.pk and stored.reason == TenantDeletion.Reason.GRACE_EXPIRED
    for label, n in before.items():
        if label not in FOR_ACCOUNTING:
            assert stored.counts[label] == n, label
    # The deletion exported again (the customer's export may predate late rows); both stay.
    assert stored.export_path != str(out) and out.exists()
    assert json.loads(open(stored.export_path, encoding="utf-8").read())["corp_id"] == gone_id
    assert stored.tenant_name == tenant.full_corp_name
    assert _tenant(suite, gone_id).data_status == Tenant.DataStatus.DELETED


def test_lifecycle_reauthorization_in_the_grace_loses_nothing(world, emulator):
    suite, tenants, _ = world
    corp_id = next(iter(tenants))
    tenant = _relieve(emulator, suite, corp_id)
    before = tenant_rows(tenant)
    advance_time(emulator, 20 * DAY)
    emulator.authorize(suite.suite_key, corp_id)
    back = wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.AUTHORIZED),
                    timeout=30, what="the re-authorization")
    wait_for(lambda: _settled(suite), timeout=30, what="the push processed")
    assert (back.data_status, back.data_delete_after) == (Tenant.DataStatus.LIVE, None)
    advance_time(emulator, 20 * DAY)
    assert tenant_data_sweep() == []
    after = tenant_rows(back)
    for label, n in before.items():
        if label in GROWS_ON_REAUTH:
            assert after[label] >= n, label
        else:
            assert after[label] == n, label


def test_lifecycle_two_sweeps_at_once_delete_once(celery_worker):
    tenant = TenantFactory(status=Tenant.Status.RELIEVED, relieved_at=None,
                           data_status=Tenant.DataStatus.SCHEDULED)
    Tenant.objects.filter(pk=tenant.pk).update(data_delete_after=tenant.created_at)
    start = threading.Barrier(4)
    results, errors = [], []

    def sweep():
        try:
            start.wait(timeout=10)
            results.extend(tenant_data_sweep())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 1
    assert TenantDeletion.objects.filter(corp_id=tenant.corp_id).count() == 1
