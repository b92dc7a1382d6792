"""The mirror over real HTTP end to end: the emulator authorizes and pushes to dingsuite's live
endpoint, the session's Celery worker syncs and applies rows. Authorization mirrors the corp;
pushed changes keep it exact; a scope change narrows and widens it; dropped, duplicated and
reordered pushes are healed by the reconcile."""

import pytest

from directory.models import DirectorySync
from directory.services.sync import sync_request
from tenants.models import CallbackEvent, Tenant
from tenants.selectors.suites import suite_ticket_current
from tests.conftest import advance_time
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import unique_corp_id, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _synced(tenant, generation: int) -> DirectorySync | None:
    return DirectorySync.objects.filter(tenant=tenant, generation__gte=generation,
                                        status=DirectorySync.Status.IDLE,
                                        last_success_at__isnull=False).first()


def _settled(suite) -> bool:
    busy = (CallbackEvent.Status.PENDING, CallbackEvent.Status.PROCESSING,
            CallbackEvent.Status.FAILED)
    return not CallbackEvent.objects.filter(suite=suite, status__in=busy).exists()


def _exact(emulator, tenant, **scope):
    """A wait_for predicate: the mirror is what the emulator's state says (problems kept in
    check.problems for the failure message)."""
    def check():
        if not _settled(tenant.suite):
            return False
        check.problems = diff(expected_mirror(emulator.get_corp(tenant.corp_id), **scope),
                              actual_mirror(tenant))
        return not check.problems
    check.problems = []
    return check


def _wait_exact(emulator, tenant, what, **scope):
    check = _exact(emulator, tenant, **scope)
    try:
        wait_for(check, timeout=30, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error}: {check.problems}") from None


@pytest.fixture
def mirrored(celery_worker, live_server, emulator, make_suite):
    suite, _ = make_suite(push_style="sync_http", with_ticket=False,
                          callback_url=live_server.url + "/callbacks/{suite_key}/")
    ticket = emulator.push_ticket(suite.suite_key)
    wait_for(lambda: suite_ticket_current(suite=suite) == ticket, what="the pushed ticket")
    corp = emulator.create_corp(users=60, corp_id=unique_corp_id())
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = wait_for(lambda: Tenant.objects.select_related("suite").filter(
        suite=suite, corp_id=corp["corp_id"], status=Tenant.Status.AUTHORIZED).first(),
        what="the tenant")
    wait_for(lambda: _synced(tenant, 1), timeout=60, what="the first sync")
    return tenant, corp


def test_authorization_mirrors_and_pushes_keep_it_exact(emulator, mirrored):
    tenant, corp = mirrored
    problems = diff(expected_mirror(emulator.get_corp(corp["corp_id"])), actual_mirror(tenant))
    assert not problems, problems
    corp_id = corp["corp_id"]
    made = emulator.contact_change(corp_id, "org_dept_create",
                                   dept={"name": "推送部门", "parent_id": 1})
    dept_id = made["dept_ids"][0]
    emulator.contact_change(corp_id, "user_add_org",
                            user={"userid": "pushed1", "name": "新人", "depts": [dept_id]})
    emulator.contact_change(corp_id, "user_modify_org",
                            user={"userid": corp["userids"][7], "name": "改过"})
    emulator.contact_change(corp_id, "user_leave_org", user={"userid": corp["userids"][8]})
    _wait_exact(emulator, tenant, "the pushed changes in the mirror")
    # Rows never start a full sync.
    assert DirectorySync.objects.get(tenant=tenant).generation == 1


def test_dropped_duplicated_and_reordered_pushes_are_healed_by_the_reconcile(
        emulator, mirrored):
    tenant, corp = mirrored
    corp_id, users = corp["corp_id"], corp["userids"]
    emulator.contact_change(corp_id, "user_modify_org", user={"userid": users[10], "name": "一"},
                            hold=True)
    advance_time(emulator, 1)  # the second state is a second newer
    emulator.contact_change(corp_id, "user_modify_org", user={"userid": users[10], "name": "二"},
                            hold=True)
    emulator.contact_change(corp_id, "user_modify_org", user={"userid": users[11], "name": "重"},
                            duplicate=True)
    emulator.contact_change(corp_id, "user_leave_org", user={"userid": users[12]}, drop=True)
    emulator.contact_change(corp_id, "user_modify_org", user={"userid": users[13], "name": "丢"},
                            drop=True)
    emulator.release_pushes(suite_key=tenant.suite.suite_key, order="reverse")
    # Reordered: the newer state arrives first and stays (the older one must not win).
    wait_for(lambda: _settled(tenant.suite) and [
        actual_mirror(tenant)["users"][u]["name"] for u in users[10:12]] == ["二", "重"],
        timeout=60, what="the delivered pushes")
    mirror = actual_mirror(tenant)["users"]
    # Dropped: only the reconcile can see them.
    assert users[12] in mirror and mirror[users[13]]["name"] != "丢"
    sync_request(tenant=tenant, reason="test")
    sync = wait_for(lambda: _synced(tenant, 2), timeout=60, what="the reconcile")
    _wait_exact(emulator, tenant, "the healed mirror")
    assert sync.drift == {"added": 0, "changed": 1, "deleted": 1}


def test_a_scope_change_narrows_and_widens_the_mirror(emulator, mirrored):
    tenant, corp = mirrored
    world = emulator.get_corp(corp["corp_id"])
    dept = next(d for d in world["departments"] if d["parent_id"] == 1)
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[dept["id"]])
    wait_for(lambda: _synced(tenant, 2), timeout=60, what="the narrowing sync")
    _wait_exact(emulator, tenant, "the narrowed mirror", authed_dept=[dept["id"]])
    narrowed = actual_mirror(tenant)
    assert len(narrowed["users"]) < len(world["users"]) and 1 not in narrowed["depts"]
    # Widened by the other push DingTalk sends for it (biz_type 7 scope update).
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[1],
                         push="scope_update")
    wait_for(lambda: _synced(tenant, 3), timeout=60, what="the widening sync")
    _wait_exact(emulator, tenant, "the widened mirror")
    assert DirectorySync.objects.get(tenant=tenant).reason == "scope_change"
