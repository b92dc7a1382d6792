"""Pushed contact rows over the whole path (emulator SyncHTTP push -> callback view -> inbox ->
Celery worker -> mirror) under the emulator's delivery faults: a dropped push leaves the mirror
behind until the reconcile (full sync) heals it exactly; duplicated pushes apply once; pushes
delivered in reverse never let the older state win. And the directory.changed webhook event
after the sync and after each applied row batch."""

import pytest

from api.models import WebhookEvent
from api.services.webhooks import webhook_endpoint_create
from directory.models import AppliedContactEvent, DirectorySync
from directory.services.sync import sync_request, sync_run
from tenants.models import CallbackEvent, Tenant
from tests.conftest import advance_time
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import (  # noqa: F401  (the session's real Celery worker)
    celery_session_worker,
    celery_worker,
    unique_corp_id,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OPEN = (CallbackEvent.Status.PENDING, CallbackEvent.Status.PROCESSING, CallbackEvent.Status.FAILED)


@pytest.fixture
def pushed(live_server, celery_worker, emulator, make_suite):  # noqa: F811
    """A sync_http suite pushing to this dingsuite, a corp that authorized it (the tenant made
    by the pushed authorization, its first full sync run by the worker), and a webhook
    endpoint of the suite hearing directory.changed."""
    suite, _ = make_suite(push_style="sync_http",
                          callback_url=live_server.url + "/callbacks/{suite_key}/")
    webhook_endpoint_create(url=live_server.url + "/no-such-hook/", suite=suite,
                            events=["directory.changed"])
    corp = emulator.create_corp(users=60, depts=6, corp_id=unique_corp_id())
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = wait_for(lambda: Tenant.objects.filter(suite=suite, corp_id=corp["corp_id"])
                      .first(), what="the pushed authorization's tenant")
    wait_for(lambda: DirectorySync.objects.filter(tenant=tenant,
                                                  last_success_at__isnull=False).exists(),
             timeout=60, what="the first full sync")
    return tenant, corp, suite


def _settled(emulator, suite, tenant, pushes: int) -> None:
    """The emulator delivered `pushes` contact pushes and the worker processed every event."""
    def delivered():
        done = [p for p in emulator.pushes(suite_key=suite.suite_key)
                if p["kind"] == "contact" and p["status"] == "acknowledged"]
        return len(done) >= pushes
    wait_for(delivered, what=f"{pushes} contact pushes acknowledged")
    wait_for(lambda: not CallbackEvent.objects.filter(
        suite=suite, kind__startswith="contact_", status__in=OPEN).exists(),
        what="the contact events processed")


def _problems(emulator, tenant, corp) -> list[str]:
    return diff(expected_mirror(emulator.get_corp(corp["corp_id"])), actual_mirror(tenant))


def _reconcile(tenant) -> DirectorySync:
    # The worker may already have started a sync of its own (a rerun): wait it out, then run.
    wait_for(lambda: DirectorySync.objects.filter(
        tenant=tenant, status=DirectorySync.Status.IDLE).exists(), what="an idle sync")
    sync_request(tenant=tenant, reason="reconcile")
    wait_for(lambda: sync_run(tenant_id=tenant.pk) == "done" or DirectorySync.objects.filter(
        tenant=tenant, status=DirectorySync.Status.IDLE).exists(), what="the reconcile")
    return DirectorySync.objects.get(tenant=tenant)


def _users(corp, emulator):
    world = emulator.get_corp(corp["corp_id"])
    return [u for u in world["users"] if u["depts"] != [1]]


def test_reconcile_heals_dropped_pushes_exactly(emulator, pushed):
    tenant, corp, suite = pushed
    assert not _problems(emulator, tenant, corp)
    a, b, c, d = _users(corp, emulator)[:4]
    cid = corp["corp_id"]
    emulator.contact_change(cid, "user_modify_org", user={"userid": a["userid"],
                                                          "position": "pushed"})
    emulator.contact_change(cid, "user_modify_org", drop=True,
                            user={"userid": b["userid"], "position": "lost", "depts": [1]})
    emulator.contact_change(cid, "user_add_org", user={"userid": "newcomer",
                                                       "depts": c["depts"]})
    emulator.contact_change(cid, "user_leave_org", user={"userid": d["userid"]}, drop=True)
    _settled(emulator, suite, tenant, pushes=2)
    problems = _problems(emulator, tenant, corp)
    # Exactly the two lost changes are missing; the pushed ones are in.
    assert sorted(p.split(":")[0] for p in problems) == sorted(
        [f"users {b['userid']}", f"users {d['userid']}"]), problems
    advance_time(emulator, 1)
    sync = _reconcile(tenant)
    assert not _problems(emulator, tenant, corp), _problems(emulator, tenant, corp)
    assert sync.drift == {"added": 0, "changed": 1, "deleted": 1}


def test_reconcile_duplicated_pushes_apply_once(emulator, pushed):
    tenant, corp, suite = pushed
    a = _users(corp, emulator)[0]
    before = AppliedContactEvent.objects.filter(tenant=tenant).count()
    emulator.contact_change(corp["corp_id"], "user_modify_org", duplicate=True,
                            user={"userid": a["userid"], "position": "twice"})
    _settled(emulator, suite, tenant, pushes=2)
    assert AppliedContactEvent.objects.filter(tenant=tenant).count() == before + 1
    assert not _problems(emulator, tenant, corp)


@pytest.mark.parametrize("coalesce", [False, True])
def test_reconcile_reversed_pushes_keep_the_newest_state(emulator, pushed, coalesce):
    tenant, corp, suite = pushed
    a, b = _users(corp, emulator)[:2]
    cid = corp["corp_id"]
    for step in ("first", "second", "third"):
        emulator.contact_change(cid, "user_modify_org", hold=True,
                                user={"userid": a["userid"], "position": step})
    emulator.contact_change(cid, "org_dept_modify", hold=True,
                            dept={"id": b["depts"][0], "name": "改过"})
    emulator.contact_change(cid, "user_modify_org", hold=True,
                            user={"userid": b["userid"], "depts": [1]})
    released = emulator.release_pushes(suite_key=suite.suite_key, order="reverse",
                                       coalesce=coalesce)
    assert len(released) == (1 if coalesce else 5)
    _settled(emulator, suite, tenant, pushes=len(released))
    assert not _problems(emulator, tenant, corp), _problems(emulator, tenant, corp)


def test_reconcile_directory_changed_webhook_after_sync_and_rows(emulator, pushed):
    tenant, corp, suite = pushed
    events = WebhookEvent.objects.filter(tenant=tenant, event_type="directory.changed")
    first = wait_for(lambda: events.first(), what="the sync's directory.changed event")
    data = first.payload["data"]
    assert data["corp_id"] == corp["corp_id"] and data["reason"] == "sync"
    assert data["generation"] == 1 and data["synced_at"] is not None
    assert first.deliveries.count() == 1
    a = _users(corp, emulator)[0]
    emulator.contact_batch(corp["corp_id"], [
        {"action": "user_modify_org", "user": {"userid": a["userid"], "position": "batched"}},
        {"action": "org_dept_create", "dept": {"name": "新"}}])
    _settled(emulator, suite, tenant, pushes=1)
    rows = wait_for(lambda: [e for e in events.order_by("created_at")
                             if e.payload["data"]["reason"] == "rows"],
                    what="the rows' directory.changed events")
    assert rows[0].payload["data"]["generation"] == 1
    assert rows[0].payload["data"]["synced_at"] is not None
    assert rows[0].payload["type"] == "directory.changed"
