"""audience_expand: departments from the directory mirror when it is fresh and holds them (no
DingTalk call), the live walk otherwise (stale or absent mirror, a department it lacks)."""

from datetime import timedelta

import pytest

from core import clock
from directory.models import Department, DirectorySync, Membership, User
from messaging.services.audience import audience_expand

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CONTACT_CALLS = ("topapi/v2/department/listsub", "topapi/v2/user/list")


def _mirror(tenant, detail, *, synced_ago_s: float = 0) -> None:
    """The emulator's corp as a finished full sync would leave it in the mirror."""
    now = clock.now()
    Department.objects.bulk_create([
        Department(tenant=tenant, dept_id=d["id"], name=d["name"], parent_id=d["parent_id"],
                   order=d["order"], generation=1, updated_at=now)
        for d in detail["departments"]])
    User.objects.bulk_create([
        User(tenant=tenant, userid=u["userid"], unionid=u["unionid"], name=u["name"],
             active=u["active"], generation=1, updated_at=now) for u in detail["users"]])
    Membership.objects.bulk_create([
        Membership(tenant=tenant, userid=u["userid"], dept_id=d)
        for u in detail["users"] for d in u["depts"]])
    done = now - timedelta(seconds=synced_ago_s)
    DirectorySync.objects.create(tenant=tenant, generation=1, last_success_at=done,
                                 finished_at=done)


def _calls(emulator) -> int:
    calls = emulator.counters()["calls"]
    return sum(calls.get(name, 0) for name in CONTACT_CALLS)


def _subtree_members(detail, root) -> set[str]:
    children: dict = {}
    for d in detail["departments"]:
        children.setdefault(d["parent_id"], []).append(d["id"])
    depts, stack = set(), [root]
    while stack:
        dept = stack.pop()
        depts.add(dept)
        stack.extend(children.get(dept, []))
    return {u["userid"] for u in detail["users"] if set(u["depts"]) & depts}


@pytest.fixture
def app_corp(emulator, make_app):
    tenant, corp, _ = make_app(users=80)
    detail = emulator.get_corp(corp["corp_id"])
    top = next(d["id"] for d in detail["departments"]
               if d["parent_id"] == 1 and any(c["parent_id"] == d["id"]
                                              for c in detail["departments"]))
    return tenant, corp, detail, top


def test_audience_from_a_fresh_mirror_makes_no_dingtalk_call(emulator, app_corp):
    tenant, corp, detail, top = app_corp
    _mirror(tenant, detail)
    # A change the mirror has not heard of: only a live walk could see it.
    emulator.contact_change(corp["corp_id"], "user_add_org",
                            user={"userid": "latecomer", "depts": [top]})
    emulator.reset_counters()
    audience = audience_expand(tenant=tenant, userids=["named"], dept_ids=[top],
                               to_all_user=False)
    assert _calls(emulator) == 0
    expected = _subtree_members(detail, top)
    assert audience.userids[0] == "named" and set(audience.userids[1:]) == expected
    assert "latecomer" not in audience.userids
    inactive = {u["userid"] for u in detail["users"] if not u["active"]} & expected
    assert audience.inactive == inactive and audience.dept_errors == []


@pytest.mark.parametrize("mirror", ["stale", "failed", "absent", "lacks_the_department"])
def test_audience_falls_back_to_the_live_walk(emulator, app_corp, settings, mirror):
    tenant, corp, detail, top = app_corp
    if mirror == "stale":
        settings.DIRECTORY_FRESH_MAX_AGE = 3600
        _mirror(tenant, detail, synced_ago_s=7200)
    elif mirror == "failed":
        _mirror(tenant, detail)
        DirectorySync.objects.filter(tenant=tenant).update(
            last_failure_at=clock.now() + timedelta(seconds=1))
    elif mirror == "lacks_the_department":
        _mirror(tenant, detail)
        Department.objects.filter(tenant=tenant, dept_id=top).delete()
    emulator.contact_change(corp["corp_id"], "user_add_org",
                            user={"userid": "latecomer", "depts": [top]})
    emulator.reset_counters()
    audience = audience_expand(tenant=tenant, userids=[], dept_ids=[top], to_all_user=False)
    assert _calls(emulator) > 0
    assert set(audience.userids) == _subtree_members(detail, top) | {"latecomer"}


def test_audience_unknown_department_keeps_dingtalks_errcode(emulator, app_corp):
    tenant, corp, detail, top = app_corp
    _mirror(tenant, detail)
    audience = audience_expand(tenant=tenant, userids=[], dept_ids=[top, 987654321],
                               to_all_user=False)
    assert [e["dept_id"] for e in audience.dept_errors] == [987654321]
    assert audience.dept_errors[0]["errcode"]
    assert set(audience.userids) == _subtree_members(detail, top)


def test_audience_to_all_user_from_the_mirror(emulator, app_corp):
    tenant, corp, detail, top = app_corp
    _mirror(tenant, detail)
    emulator.reset_counters()
    audience = audience_expand(tenant=tenant, userids=[], dept_ids=[], to_all_user=True)
    assert _calls(emulator) == 0
    assert set(audience.userids) == {u["userid"] for u in detail["users"]}
