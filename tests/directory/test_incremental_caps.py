"""Bounds on what one pushed contact event may cost: an internal app's ids-only push naming
more ids than DIRECTORY_REFETCH_PER_EVENT re-fetches only that many and queues a full sync."""

import pytest

from directory import selectors
from directory.models import DirectorySync
from directory.services.sync import sync_request, sync_run
from tenants.models import CallbackEvent
from tenants.services.events import callback_event_process
from tests.tenants.pushes import app_post, app_signed

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
