"""The full sync against the emulator over HTTP: a corp mirrored field by field (internal app
and suite tenant), scope-aware, rows DingTalk no longer shows deleted (soft), one sync per
tenant at a time, throttling waited through, and a relieved tenant stopped."""

from datetime import timedelta

import pytest

from core import clock
from directory import selectors
from directory.models import Department, DirectorySync, User
from directory.services.sync import sync_request, sync_run
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Status = DirectorySync.Status


def _sync(tenant, reason="test") -> DirectorySync:
    sync_request(tenant=tenant, reason=reason)
    assert sync_run(tenant_id=tenant.pk) == "done"
    return DirectorySync.objects.get(tenant=tenant)


def test_sync_mirrors_an_internal_apps_corp_exactly(emulator, make_app):
    tenant, corp, _ = make_app(users=120)
    sync = _sync(tenant)
    world = emulator.get_corp(corp["corp_id"])
    problems = diff(expected_mirror(world), actual_mirror(tenant))
    assert not problems, problems
    assert (sync.status, sync.generation) == (Status.IDLE, 1)
    assert sync.department_count == len(world["departments"])
    assert sync.user_count == 120
    assert sync.drift == {"added": sync.department_count + 120, "changed": 0, "deleted": 0}
    # auth/scopes, then per department: get, listsub and one user/list page (<100 members).
    assert sync.calls == 1 + 3 * sync.department_count
    state = selectors.mirror_state(tenant=tenant)
    assert state.fresh and state.user_count == 120 and state.generation == 1


def test_sync_again_changes_nothing_and_keeps_the_etag(emulator, make_app):
    tenant, corp, _ = make_app(users=120)
    # Users in two departments: each walk reads their order in each on a different page.
    assert any(len(u["depts"]) > 1 for u in emulator.get_corp(corp["corp_id"])["users"])
    _sync(tenant)
    before = selectors.mirror_state(tenant=tenant)
    sync = _sync(tenant)
    after = selectors.mirror_state(tenant=tenant)
    assert sync.drift == {"added": 0, "changed": 0, "deleted": 0}
    assert after.generation == 2
    assert after.etag.split("-")[1:] == before.etag.split("-")[1:]


def test_sync_deletes_what_dingtalk_no_longer_shows_and_heals_drift(emulator, make_app):
    tenant, corp, _ = make_app(users=40)
    _sync(tenant)
    world = emulator.get_corp(corp["corp_id"])
    leaver = next(u for u in world["users"] if u["depts"] != [1])
    mover = next(u for u in world["users"] if u["userid"] not in (leaver["userid"],)
                 and u["depts"] != [1] and len(u["depts"]) == 1)
    # Changes whose pushes were lost: only the reconcile can see them.
    emulator.contact_change(corp["corp_id"], "user_leave_org",
                            user={"userid": leaver["userid"]}, drop=True)
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": mover["userid"], "name": "改名了", "depts": [1]},
                            drop=True)
    clock.advance(1)
    sync = _sync(tenant)
    problems = diff(expected_mirror(emulator.get_corp(corp["corp_id"])), actual_mirror(tenant))
    assert not problems, problems
    assert sync.drift == {"added": 0, "changed": 1, "deleted": 1}
    gone = User.objects.get(tenant=tenant, userid=leaver["userid"])
    assert gone.deleted_at is not None and gone.generation == 1
    assert selectors.user(tenant=tenant, userid=leaver["userid"]) is None
    moved = selectors.user(tenant=tenant, userid=mover["userid"])
    assert [m.dept_id for m in moved.memberships] == [1]


def test_sync_of_a_suite_tenant_follows_its_scope(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    world = emulator.get_corp(corp["corp_id"])
    dept = next(d for d in world["departments"] if d["parent_id"] == 1)
    outsider = next(u for u in world["users"]
                    if dept["id"] not in u["depts"])
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[dept["id"]],
                         authed_user=[outsider["userid"]], push="none")
    _sync(tenant)
    expected = expected_mirror(world, authed_dept=[dept["id"]],
                               authed_user=[outsider["userid"]])
    problems = diff(expected, actual_mirror(tenant))
    assert not problems, problems
    assert outsider["userid"] in expected["users"] and 1 not in expected["depts"]
    calls = {c["endpoint"] for c in emulator.counters()["calls_by"]
             if c["corp_id"] == corp["corp_id"]}
    # Scope is discovered with scope-limited calls only (PROTOCOL-ISV 4.2).
    assert not calls & {"topapi/v2/department/listsubid", "topapi/user/listid",
                        "department/list_ids", "user/getDeptMember"}


def test_two_syncs_of_one_tenant_one_runs(emulator, make_app):
    tenant, _, _ = make_app(users=10)
    sync_request(tenant=tenant, reason="test")
    DirectorySync.objects.filter(tenant=tenant).update(
        status=Status.RUNNING, lease_owner="someone",
        lease_expires_at=clock.now() + timedelta(seconds=60))
    assert sync_run(tenant_id=tenant.pk) == "not claimed"
    assert not Department.objects.filter(tenant=tenant).exists()
    # A request while it runs is remembered, not queued twice.
    assert sync_request(tenant=tenant, reason="again").rerun is True
