"""directory.services.reads against the emulator over HTTP: what each read answers for an
internal app and a suite's tenant, input refused before any call, an inactive tenant refused."""

import pytest

from directory.errors import (
    DepartmentIdInvalid,
    DirectoryInputInvalid,
    LangInvalid,
    PageInvalid,
    UnionidInvalid,
    UseridInvalid,
)
from directory.services import reads
from tenants.errors import TenantInactive
from tenants.models import Tenant
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _world(emulator, corp_id: str) -> dict:
    return emulator.get_corp(corp_id, users=True)


def _depth(world: dict, dept_id: int) -> int:
    parents = {d["id"]: d["parent_id"] for d in world["departments"]}
    depth = 0
    while parents[dept_id] is not None:
        dept_id, depth = parents[dept_id], depth + 1
    return depth


def _members(world: dict, dept_id: int) -> set[str]:
    return {u["userid"] for u in world["users"] if dept_id in u["depts"]}


def test_reads_departments_of_an_internal_app(emulator, make_app):
    tenant, corp, _ = make_app(users=40)
    world = _world(emulator, corp["corp_id"])
    children = {d["id"] for d in world["departments"] if d["parent_id"] == 1}
    assert set(reads.department_sub_ids(tenant=tenant)) == children
    assert {d.id for d in reads.department_list(tenant=tenant)} == children
    everything = reads.department_list(tenant=tenant, dept_id=1, fetch_child=True, lang="en_US")
    assert {d.id for d in everything} == {d["id"] for d in world["departments"]} - {1}
    deepest = max(world["departments"], key=lambda d: _depth(world, d["id"]))
    detail = reads.department_get(tenant=tenant, dept_id=deepest["id"])
    assert (detail.id, detail.name) == (deepest["id"], deepest["name"])
    path = reads.department_parent_ids(tenant=tenant, dept_id=deepest["id"])
    assert path[0] == deepest["id"] and path[-1] == 1


def test_reads_users_of_an_internal_app(emulator, make_app):
    tenant, corp, _ = make_app(users=40)
    world = _world(emulator, corp["corp_id"])
    user = next(u for u in world["users"] if u["depts"] != [1])
    got = reads.user_get(tenant=tenant, userid=user["userid"])
    assert (got.userid, got.name, got.unionid) == (user["userid"], user["name"],
                                                   user["unionid"])
    assert got.mobile == user["mobile"]  # an internal app sees it
    paths = reads.user_parent_paths(tenant=tenant, userid=user["userid"])
    assert [p[0] for p in paths] == user["depts"] and all(p[-1] == 1 for p in paths)
    assert reads.user_count(tenant=tenant) == len(world["users"])
    assert reads.user_count(tenant=tenant, only_active=True) == sum(
        1 for u in world["users"] if u["active"])
    dept = user["depts"][0]
    assert set(reads.department_member_ids(tenant=tenant, dept_id=dept)) == _members(world, dept)
    lookup = reads.userid_by_unionid(tenant=tenant, unionid=user["unionid"])
    assert (lookup.userid, lookup.contact_type) == (user["userid"], 0)


def test_reads_members_page_by_page_to_the_end(emulator, make_app):
    tenant, corp, _ = make_app(users=80)
    world = _world(emulator, corp["corp_id"])
    dept = max({d for u in world["users"] for d in u["depts"]},
               key=lambda d: len(_members(world, d)))
    seen, offset = [], 0
    while True:
        page = reads.department_members_page(tenant=tenant, dept_id=dept, offset=offset, size=7,
                                             order="entry_asc")
        assert len(page.users) <= 7
        seen += [u.userid for u in page.users]
        if not page.has_more:
            break
        offset += len(page.users)
    assert len(seen) == len(set(seen)) and set(seen) == _members(world, dept)
    assert len(seen) > 7  # more than one page was read


def test_reads_a_suite_tenant_sees_its_scope_and_no_mobile(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    scopes = reads.auth_scopes_get(tenant=tenant)
    assert scopes.authed_dept_ids == (1,) and "name" in scopes.user_fields
    user = reads.user_get(tenant=tenant, userid=corp["userids"][0])
    assert user.userid == corp["userids"][0] and user.mobile is None


@pytest.mark.parametrize(("call", "error", "field"), [
    (lambda t: reads.department_get(tenant=t, dept_id=0), DepartmentIdInvalid, "dept_id"),
    (lambda t: reads.department_get(tenant=t, dept_id=-5), DepartmentIdInvalid, "dept_id"),
    (lambda t: reads.department_get(tenant=t, dept_id=2**63), DepartmentIdInvalid, "dept_id"),
    (lambda t: reads.department_get(tenant=t, dept_id="1"), DepartmentIdInvalid, "dept_id"),
    (lambda t: reads.department_sub_ids(tenant=t, dept_id=True), DepartmentIdInvalid, "dept_id"),
    (lambda t: reads.department_list(tenant=t, fetch_child="yes"), DirectoryInputInvalid,
     "fetch_child"),
    (lambda t: reads.department_list(tenant=t, lang="fr_FR"), LangInvalid, "lang"),
    (lambda t: reads.user_get(tenant=t, userid=""), UseridInvalid, "userid"),
    (lambda t: reads.user_get(tenant=t, userid="   "), UseridInvalid, "userid"),
    (lambda t: reads.user_get(tenant=t, userid="a\x00b"), UseridInvalid, "userid"),
    (lambda t: reads.user_parent_paths(tenant=t, userid="u" * 65), UseridInvalid, "userid"),
    (lambda t: reads.user_get(tenant=t, userid=42), UseridInvalid, "userid"),
    (lambda t: reads.userid_by_unionid(tenant=t, unionid="x" * 101), UnionidInvalid, "unionid"),
    (lambda t: reads.userid_by_unionid(tenant=t, unionid="\x00"), UnionidInvalid, "unionid"),
    (lambda t: reads.user_count(tenant=t, only_active=1), DirectoryInputInvalid, "only_active"),
    (lambda t: reads.department_members_page(tenant=t, dept_id=1, size=101), PageInvalid,
     "size"),
    (lambda t: reads.department_members_page(tenant=t, dept_id=1, size=0), PageInvalid, "size"),
    (lambda t: reads.department_members_page(tenant=t, dept_id=1, offset=-1), PageInvalid,
     "offset"),
    (lambda t: reads.department_members_page(tenant=t, dept_id=1, order="random"), PageInvalid,
     "order"),
])
def test_reads_bad_input_is_refused_before_any_call(emulator, make_app, call, error, field):
    tenant, _, _ = make_app(users=3)
    before = emulator.counters()["calls"]
    with pytest.raises(error) as info:
        call(tenant)
    assert info.value.http_status == 400 and info.value.extra["field"] == field
    assert "\x00" not in str(info.value.extra)
    assert emulator.counters()["calls"] == before


def test_reads_error_codes_are_stable_and_distinct():
    codes = [cls.code for cls in (DirectoryInputInvalid, DepartmentIdInvalid, UseridInvalid,
                                  UnionidInvalid, PageInvalid, LangInvalid)]
    assert len(set(codes)) == len(codes) and all(c.islower() for c in codes)
    assert all(issubclass(cls, DirectoryInputInvalid) for cls in (
        DepartmentIdInvalid, UseridInvalid, UnionidInvalid, PageInvalid, LangInvalid))


@pytest.mark.parametrize(("kind", "change"), [
    ("app", {"suspended": True}),  # an internal app can only be suspended
    ("suite", {"suspended": True}),
    ("suite", {"status": Tenant.Status.RELIEVED}),
    ("suite", {"status": Tenant.Status.APP_STOPPED}),
])
def test_reads_an_inactive_tenant_is_refused_before_any_call(emulator, make_app, make_suite,
                                                             kind, change):
    if kind == "app":
        tenant, corp, _ = make_app(users=3)
    else:
        tenant, corp = authorized_tenant(emulator, make_suite)
    Tenant.objects.filter(pk=tenant.pk).update(**change)
    tenant.refresh_from_db()
    before = emulator.counters()["calls"]
    with pytest.raises(TenantInactive):
        reads.user_get(tenant=tenant, userid=corp["userids"][0])
    assert emulator.counters()["calls"] == before
