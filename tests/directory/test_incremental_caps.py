"""Bounds on what one pushed contact event may do: an internal app's ids-only push naming more
ids than DIRECTORY_REFETCH_PER_EVENT re-fetches only that many and queues a full sync; a row for
a relieved or suspended tenant writes nothing."""

import pytest

from directory import selectors
from directory.models import AppliedContactEvent, DirectorySync
from directory.services.sync import sync_request, sync_run
from tenants.models import CallbackEvent, Tenant
from tenants.services.events import callback_event_process
from tests.directory.mirror import actual_mirror
from tests.tenants.conftest import authorized_tenant
from tests.tenants.pushes import app_post, app_signed, push, sync_row, sync_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CAP = 5


def test_an_ids_only_push_naming_many_ids_refetches_the_cap_and_queues_a_sync(
        client, emulator, make_app, settings):
    tenant, corp, _ = make_app(users=30)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    settings.DIRECTORY_REFETCH_PER_EVENT = CAP
    named = corp["userids"][:12]
    for userid in named:
        emulator.contact_change(corp["corp_id"], "user_modify_org",
                                user={"userid": userid, "name": f"new {userid}"}, drop=True)
    emulator.reset_counters()
    payload = {"EventType": "user_modify_org", "UserId": named + named[:2],
               "CorpId": corp["corp_id"], "TimeStamp": emulator.now_ms(), "eventId": "many-1"}
    assert app_post(client, tenant.appkey, *app_signed(tenant, payload)).status_code == 200
    event = callback_event_process(event_id=CallbackEvent.objects.get(tenant=tenant).pk)
    assert event.status == "done"
    assert emulator.counters()["calls"].get("topapi/v2/user/get") == CAP
    names = [selectors.user(tenant=tenant, userid=u).name for u in named]
    assert names[:CAP] == [f"new {u}" for u in named[:CAP]]
    assert not any(name.startswith("new ") for name in names[CAP:])
    assert f"re-fetched {CAP} of {len(named)} ids" in event.last_error
    sync = DirectorySync.objects.get(tenant=tenant)
    assert (sync.status, sync.reason) == ("queued", "contact_push")
    # The queued sync reads the rest.
    assert sync_run(tenant_id=tenant.pk) == "done"
    assert [selectors.user(tenant=tenant, userid=u).name for u in named] == [
        f"new {u}" for u in named]


@pytest.mark.parametrize("inactive", [{"status": Tenant.Status.RELIEVED}, {"suspended": True}])
def test_a_pushed_row_for_an_inactive_tenant_is_ignored(client, emulator, make_suite, inactive):
    tenant, corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    before = actual_mirror(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(**inactive)
    u = emulator.get_corp(corp["corp_id"])["users"][2]
    row = sync_row(tenant.suite, 13, u["userid"],
                   {"userid": u["userid"], "name": "after relief", "department": [1, 987654],
                    "syncAction": "user_modify_org", "eventId": "late-1"},
                   corp_id=tenant.corp_id, modified=emulator.now_ms() + 1000)
    seen = set(CallbackEvent.objects.values_list("pk", flat=True))
    assert push(client, tenant.suite, sync_rows(row)).status_code == 200
    stored = CallbackEvent.objects.exclude(pk__in=seen).get()
    event = callback_event_process(event_id=stored.pk)
    assert (event.status, event.last_error) == ("ignored", "tenant is not authorized")
    assert actual_mirror(tenant) == before
    assert not AppliedContactEvent.objects.filter(tenant=tenant).exists()


def test_a_tenant_active_again_is_synced_to_catch_up(emulator, make_suite,
                                                     django_capture_on_commit_callbacks):
    """Rows pushed while it was suspended were ignored: lifting the hold asks for a sync."""
    from tenants.services.tenants import tenant_resume, tenant_suspend

    tenant, _corp = authorized_tenant(emulator, make_suite)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    with django_capture_on_commit_callbacks(execute=True):
        tenant_suspend(tenant=tenant)
    assert DirectorySync.objects.get(tenant=tenant).reason == "test"  # a hold asks nothing
    with django_capture_on_commit_callbacks(execute=True):
        tenant_resume(tenant=Tenant.objects.get(pk=tenant.pk))
    assert DirectorySync.objects.get(tenant=tenant).reason == "active_again"
