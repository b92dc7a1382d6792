"""The data lifecycle's services: scheduling at the relieve, export, deletion, the sweep, and a
re-authorization before or after the deletion (tenants/services/lifecycle.py)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiKey
from core import clock
from dingtalk.isv import AuthAgent, AuthInfo
from tenants.errors_lifecycle import (
    TenantDataAlreadyDeleted,
    TenantDataBusy,
    TenantNotRelieved,
)
from tenants.lifecycle import parts
from tenants.models import CallbackEvent, Suite, Tenant, TenantDeletion
from tenants.services.lifecycle import tenant_data_delete, tenant_data_sweep
from tenants.services.lifecycle_export import tenant_export, tenant_export_write
from tenants.services.tenants import tenant_authorize, tenant_relieve
from tests.tenants.factories import InternalAppFactory, SuiteFactory, TenantFactory
from tests.tenants.lifecycle_support import populate, tenant_rows

pytestmark = pytest.mark.django_db

SECRET = "pc-SECRET-permanent-code"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path / "exports")
    settings.TENANTS_DATA_GRACE_DAYS = 30
    return tmp_path / "exports"


def _relieved(suite=None, **fields):
    tenant = TenantFactory(suite=suite or SuiteFactory(), **fields)
    populate(tenant, secret=SECRET)
    relieved = tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    # The relieve itself dropped the tokens; the rest is there until the deletion.
    assert "tenants.AccessToken" not in tenant_rows(relieved)
    return relieved, tenant_rows(relieved)


def _reauthorize(tenant):
    info = AuthInfo(corp_id=tenant.corp_id, corp_name="Back again",
                    agents=(AuthAgent(agent_id=77, app_id=int(tenant.suite.app_id), name="a"),),
                    raw={"auth_corp_info": {"corpid": tenant.corp_id}})
    return tenant_authorize(suite=tenant.suite, info=info, scopes={"auth_org_scopes": {}})


def _advance(days):
    clock.advance(days * 86400)


def test_lifecycle_relieve_schedules_deletion_after_the_suites_grace():
    suite = SuiteFactory(data_grace_days=5)
    tenant, _ = _relieved(suite)
    assert tenant.data_status == Tenant.DataStatus.SCHEDULED
    assert tenant.data_delete_after == tenant.relieved_at + 5 * DAY
    default, _ = _relieved()
    assert default.data_delete_after == default.relieved_at + 30 * DAY
    # A repeated relieve moves nothing.
    again = tenant_relieve(suite=suite, corp_id=tenant.corp_id)
    assert again.data_delete_after == tenant.data_delete_after


def test_lifecycle_keep_policy_never_deletes_automatically():
    suite = SuiteFactory(data_policy=Suite.DataPolicy.KEEP_UNTIL_REQUESTED)
    tenant, before = _relieved(suite)
    assert (tenant.data_status, tenant.data_delete_after) == (Tenant.DataStatus.KEPT, None)
    _advance(3650)
    assert tenant_data_sweep() == []
    assert tenant_rows(tenant) == before
    # The customer asks: an operator deletes it.
    deletion = tenant_data_delete(tenant=tenant, operator="ops")
    assert deletion.reason == TenantDeletion.Reason.CUSTOMER_REQUEST
    assert tenant_rows(tenant) == {}


def test_lifecycle_suite_switched_to_keep_stops_scheduled_deletions():
    tenant, before = _relieved()
    Suite.objects.filter(pk=tenant.suite_id).update(
        data_policy=Suite.DataPolicy.KEEP_UNTIL_REQUESTED)
    _advance(31)
    assert tenant_data_sweep() == []
    assert Tenant.objects.get(pk=tenant.pk).data_status == Tenant.DataStatus.KEPT
    assert tenant_rows(tenant) == before


def test_lifecycle_export_holds_every_part_and_no_secret(_export_dir):
    tenant = TenantFactory(legacy=True)
    populate(tenant, secret=SECRET)
    written = tenant_export_write(tenant=tenant, path=_export_dir / "one.json")
    text = written.path.read_text()
    data = json.loads(text)
    assert set(data["parts"]) == {part.name for part in parts()}
    assert {"tenants", "messaging", "identity", "api"} <= set(data["parts"])
    assert data["parts"]["identity"]["identity.TenantUser"][0]["name"] == "Zhang San"
    assert data["parts"]["identity"]["identity.AdminSsoAssertion"][0]["name"] == "Li Si"
    assert data["parts"]["messaging"]["messaging.Notification"][0]["msg"]["text"] == {
        "content": "quarterly numbers"}
    events = data["parts"]["tenants"]["callback_events"]
    assert events[0]["payload"]["CorpId"] == tenant.corp_id
    for secret in (SECRET, tenant.permanent_code, tenant.suite.suite_secret,
                   tenant.suite.callback_token, tenant.suite.encoding_aes_key,
                   "whsec-not-exported", "sso-secret-not-exported",
                   ApiKey.objects.get(tenants=tenant).key_hash):
        assert secret not in text
    assert stat.S_IMODE(os.stat(written.path).st_mode) == 0o600
    assert [p.name for p in _export_dir.iterdir()] == ["one.json"]  # no temporary left
    stored = Tenant.objects.get(pk=tenant.pk)
    assert (stored.data_export_path, stored.data_export_sha256) == (str(written.path),
                                                                    written.sha256)


def test_lifecycle_export_of_an_internal_app():
    app = InternalAppFactory()
    data = tenant_export(tenant=app)
    assert data["kind"] == Tenant.Kind.INTERNAL_APP and data["suite_key"] is None
    assert app.appsecret not in json.dumps(data, default=str)


def test_lifecycle_delete_refuses_an_authorized_tenant_and_an_internal_app():
    tenant = TenantFactory()
    before = populate(tenant)
    with pytest.raises(TenantNotRelieved):
        tenant_data_delete(tenant=tenant)
    with pytest.raises(TenantNotRelieved):
        tenant_data_delete(tenant=InternalAppFactory())
    assert tenant_rows(tenant) == before
    assert not TenantDeletion.objects.exists()


def test_lifecycle_sweep_deletes_past_the_grace_only_and_leaves_an_audit_row():
    tenant, before = _relieved()
    other, other_before = _relieved(tenant.suite)
    Tenant.objects.filter(pk=other.pk).update(data_delete_after=clock.now() + 60 * DAY)
    _advance(29)
    assert tenant_data_sweep() == []
    _advance(2)
    [deletion] = tenant_data_sweep()
    assert tenant_rows(tenant) == {}
    assert tenant_rows(other) == other_before
    assert deletion.reason == TenantDeletion.Reason.GRACE_EXPIRED
    # Rows without a tenant key of their own are counted too (a delivery of a webhook event).
    assert {k: v for k, v in deletion.counts.items() if v} == before | {
        "api.WebhookDelivery": 1}
    assert (deletion.corp_id, deletion.suite_key) == (tenant.corp_id, tenant.suite.suite_key)
    assert deletion.tenant_name == tenant.full_corp_name
    assert deletion.relieved_at == tenant.relieved_at
    assert deletion.export_sha256 and os.path.exists(deletion.export_path)
    stored = Tenant.objects.get(pk=tenant.pk)
    assert stored.data_status == Tenant.DataStatus.DELETED
    assert (stored.corp_name, stored.auth_info, stored.agent_id) == ("", {}, None)
    # The key restricted to this tenant alone is revoked, never left open to the whole suite.
    assert ApiKey.objects.get(name=f"only {tenant.corp_id}").revoked_at is not None
    assert ApiKey.objects.get(name=f"only {other.corp_id}").revoked_at is None
    with pytest.raises(TenantDataAlreadyDeleted):
        tenant_data_delete(tenant=stored)


def test_lifecycle_reauthorization_in_the_grace_restores_without_loss():
    tenant, before = _relieved()
    _advance(10)
    back = _reauthorize(tenant)
    assert back.status == Tenant.Status.AUTHORIZED
    assert (back.data_status, back.data_delete_after) == (Tenant.DataStatus.LIVE, None)
    _advance(60)
    assert tenant_data_sweep() == []
    assert tenant_rows(tenant) == before


def test_lifecycle_reauthorization_after_deletion_starts_afresh_on_the_same_row():
    tenant, _ = _relieved()
    deletion = tenant_data_delete(tenant=tenant)
    back = _reauthorize(tenant)
    assert back.pk == tenant.pk and back.status == Tenant.Status.AUTHORIZED
    assert back.data_status == Tenant.DataStatus.LIVE and back.data_deleted_at is None
    assert back.corp_name == "Back again" and back.authorized_at > deletion.deleted_at
    assert TenantDeletion.objects.get(pk=deletion.pk).tenant_id == tenant.pk
    assert tenant_rows(back) == {}


def test_lifecycle_deletion_exports_again_so_late_rows_are_in_its_file(_export_dir):
    # The export is the customer's backup of exactly what is deleted: a row written after an
    # earlier export (a late webhook event) must be in the file the deletion records.
    from api.models import WebhookEvent

    tenant, _ = _relieved()
    earlier = tenant_export_write(tenant=tenant, path=_export_dir / "asked.json")
    earlier_body = earlier.path.read_bytes()
    late = WebhookEvent.objects.create(event_type="tenant.authorized", tenant=tenant,
                                       payload={"late": "after-the-export"},
                                       created_at=clock.now())
    deletion = tenant_data_delete(tenant=tenant)
    assert deletion.export_path != str(earlier.path)
    with open(deletion.export_path, "rb") as export:
        body = export.read()
    assert hashlib.sha256(body).hexdigest() == deletion.export_sha256
    events = json.loads(body)["parts"]["api"]["webhook_events"]
    assert str(late.event_id) in {e["event_id"] for e in events}
    assert not WebhookEvent.objects.filter(pk=late.pk).exists()
    # The earlier file stays as it was, and the tenant row names the deletion's export.
    assert earlier.path.read_bytes() == earlier_body
    stored = Tenant.objects.get(pk=tenant.pk)
    assert (stored.data_export_path, stored.data_export_sha256) == (
        deletion.export_path, deletion.export_sha256)


def test_lifecycle_a_claimed_tenant_is_busy_until_its_lease_runs_out(settings):
    tenant, before = _relieved()
    Tenant.objects.filter(pk=tenant.pk).update(
        data_status=Tenant.DataStatus.DELETING,
        data_lease_expires_at=clock.now() + timedelta(seconds=settings.TENANTS_DATA_LEASE_S))
    with pytest.raises(TenantDataBusy):
        tenant_data_delete(tenant=tenant)
    assert tenant_data_sweep() == []
    assert tenant_rows(tenant) == before
    # The holder died: once its lease is over the sweep finishes the work.
    clock.advance(settings.TENANTS_DATA_LEASE_S + 1)
    [deletion] = tenant_data_sweep()
    # Its grace had not run out: whoever claimed it was an operator.
    assert deletion.reason == TenantDeletion.Reason.CUSTOMER_REQUEST
    assert tenant_rows(tenant) == {}


def test_lifecycle_commands_export_and_delete(_export_dir, capsys):
    tenant, _ = _relieved()
    out = _export_dir / "cmd.json"
    call_command("tenant_export", tenant.corp_id, "--out", str(out))
    assert json.loads(out.read_text())["corp_id"] == tenant.corp_id
    authorized = TenantFactory()
    with pytest.raises(CommandError, match="tenant_not_relieved"):
        call_command("tenant_delete_data", authorized.corp_id,
                     "--suite", authorized.suite.suite_key, "--yes")
    call_command("tenant_delete_data", tenant.corp_id, "--suite", tenant.suite.suite_key,
                 "--yes")
    # The deletion exports afresh into the export directory; the operator's file stays.
    deleted_with = TenantDeletion.objects.get(corp_id=tenant.corp_id).export_path
    assert deleted_with != str(out) and deleted_with.startswith(str(_export_dir))
    assert out.exists() and os.path.exists(deleted_with)
    assert tenant_rows(tenant) == {}


def test_lifecycle_export_command_names_the_suites_of_an_ambiguous_corp():
    first = TenantFactory()
    second = TenantFactory(corp_id=first.corp_id)
    with pytest.raises(CommandError) as raised:
        call_command("tenant_export", first.corp_id)
    assert "tenant_ambiguous" in str(raised.value)
    assert first.suite.suite_key in str(raised.value)
    assert second.suite.suite_key in str(raised.value)
    with pytest.raises(CommandError, match="tenant_not_found"):
        call_command("tenant_export", "dingnosuchcorp")


def test_lifecycle_reauthorization_during_the_export_cancels_the_deletion():
    from tenants.errors_lifecycle import TenantReauthorized
    from tenants.services import lifecycle

    tenant, before = _relieved()
    assert lifecycle._claim(tenant.pk, lifecycle._sweep_may_claim(clock.now() + 31 * DAY))
    _reauthorize(tenant)  # lands between the claim and the delete transaction
    with pytest.raises(TenantReauthorized):
        lifecycle._delete_claimed(tenant.pk, reason=TenantDeletion.Reason.GRACE_EXPIRED,
                                  operator="")
    assert Tenant.objects.get(pk=tenant.pk).data_status == Tenant.DataStatus.LIVE
    assert tenant_rows(tenant) == before
    assert not TenantDeletion.objects.exists()


def test_lifecycle_a_new_permanent_code_revives_the_tenant():
    from tenants.services.tenants import tenant_store_permanent_code

    tenant, _ = _relieved()
    tenant_store_permanent_code(suite=tenant.suite, corp_id=tenant.corp_id, corp_name="",
                                permanent_code="pc-new", timestamp_ms=None)
    assert Tenant.objects.get(pk=tenant.pk).data_status == Tenant.DataStatus.LIVE
    _advance(31)
    assert tenant_data_sweep() == []


def test_lifecycle_a_failing_part_deletes_nothing_and_frees_the_tenant(monkeypatch):
    from tenants import lifecycle

    tenant, before = _relieved()

    def broken(tenant):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(lifecycle._PARTS, "zzz", lifecycle.TenantDataPart(
        name="zzz", export=lambda tenant: {}, delete=broken, order=999))
    _advance(31)
    assert tenant_data_sweep() == []
    assert tenant_rows(tenant) == before  # every part's delete ran in one transaction
    stored = Tenant.objects.get(pk=tenant.pk)
    assert stored.data_status == Tenant.DataStatus.DELETING
    assert stored.data_lease_expires_at <= clock.now()  # the next sweep may try at once
    monkeypatch.delitem(lifecycle._PARTS, "zzz")
    [deletion] = tenant_data_sweep()
    assert deletion.reason == TenantDeletion.Reason.GRACE_EXPIRED
    assert tenant_rows(tenant) == {}


def test_lifecycle_sweep_is_a_daily_off_the_hour_beat_task(settings):
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: every app's tasks.py
    entry = settings.CELERY_BEAT_SCHEDULE["tenants-data-sweep"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == {41}


def test_lifecycle_hostile_stored_text_exports_as_valid_json_and_deletes(_export_dir):
    # An encrypted payload keeps whatever DingTalk pushed, a lone surrogate or a NUL included:
    # the export must still be written (valid UTF-8 JSON) or the tenant is never deleted.
    tenant, _before = _relieved()
    CallbackEvent.objects.create(
        suite=tenant.suite, corp_id=tenant.corp_id, kind="org_update", dedupe_key="hostile",
        status=CallbackEvent.Status.DONE, payload={"CorpName": "a\ud800b\x00c 中"})
    deletion = tenant_data_delete(tenant=tenant, operator="ops")
    with open(deletion.export_path, "rb") as export:
        data = json.loads(export.read().decode("utf-8"))
    payloads = [e["payload"] for e in data["parts"]["tenants"]["callback_events"]]
    assert {"CorpName": "a\ud800b\x00c 中"} in payloads
    assert tenant_rows(tenant) == {}


def test_lifecycle_deletion_waits_for_the_corps_unprocessed_callback_events(_export_dir):
    # A re-authorization pushed while the deletion exports is stored before it is processed:
    # deleting the corp's callback events then would lose the authorization itself.
    tenant, before = _relieved()
    pushed = CallbackEvent.objects.create(
        suite=tenant.suite, corp_id=tenant.corp_id, kind="org_suite_auth",
        dedupe_key="reauth", status=CallbackEvent.Status.PENDING,
        payload={"CorpId": tenant.corp_id})
    with pytest.raises(TenantDataBusy) as caught:
        tenant_data_delete(tenant=tenant, operator="ops")
    assert caught.value.extra["unprocessed_events"] == 1
    assert CallbackEvent.objects.filter(pk=pushed.pk).exists()
    assert tenant_rows(tenant) == {**before, "tenants.CallbackEvent":
                                   before["tenants.CallbackEvent"] + 1}
    stored = Tenant.objects.get(pk=tenant.pk)
    assert stored.data_status == Tenant.DataStatus.DELETING  # free again: the lease ran out
    assert stored.data_lease_expires_at <= clock.now()
    CallbackEvent.objects.filter(pk=pushed.pk).update(status=CallbackEvent.Status.IGNORED)
    tenant_data_delete(tenant=tenant, operator="ops")
    assert tenant_rows(tenant) == {}


def test_lifecycle_a_holder_overtaken_after_its_lease_says_already_deleted(settings):
    # A deleter slower than its lease is taken over by the sweep, which finishes first: the
    # slow one must say the data is deleted, not that the corp authorized again.
    from tenants.services import lifecycle

    tenant, _ = _relieved()
    assert lifecycle._claim(tenant.pk, lifecycle._operator_may_claim(clock.now()))
    clock.advance(settings.TENANTS_DATA_LEASE_S + 1)
    _advance(31)
    [taken_over] = tenant_data_sweep()
    with pytest.raises(TenantDataAlreadyDeleted):
        lifecycle._delete_claimed(tenant.pk, reason=TenantDeletion.Reason.CUSTOMER_REQUEST,
                                  operator="slow")
    assert list(TenantDeletion.objects.filter(corp_id=tenant.corp_id)) == [taken_over]
