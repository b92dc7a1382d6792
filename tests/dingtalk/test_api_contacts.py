"""Departments and users, v1 and v2, and auth/scopes: round trips against the emulator's org."""

import math

import pytest

from dingtalk.errors import NotFound
from tests.dingtalk.test_client_support import (  # noqa: F401 (world_fixture is a fixture)
    busiest_dept,
    world_fixture,
)


@pytest.fixture
def org(emulator, world):
    """The emulator's own view of the corp: departments by id, users by userid."""
    full = emulator.get_corp(world.corp["corp_id"])
    return {"depts": {d["id"]: d for d in full["departments"]},
            "users": {u["userid"]: u for u in full["users"]}}


def _children(org, dept_id):
    return sorted(d for d, info in org["depts"].items() if info["parent_id"] == dept_id)


def _leaf(org):
    return max(org["depts"], key=lambda d: len(_path(org, d)))


def _path(org, dept_id):
    path = [dept_id]
    while org["depts"][path[-1]]["parent_id"]:
        path.append(org["depts"][path[-1]]["parent_id"])
    return path


def test_api_departments_v1_round_trip(world, org):
    client = world.client
    assert sorted(client.departments.list_ids()) == _children(org, 1)
    listed = client.departments.list(1)
    assert sorted(d.id for d in listed) == _children(org, 1)
    assert all(d.parent_id == 1 and d.name for d in listed)
    child = _children(org, 1)[0]
    dept = client.departments.get(child)
    assert (dept.id, dept.name, dept.parent_id) == (child, org["depts"][child]["name"], 1)
    leaf = _leaf(org)
    assert client.departments.list_parent_depts_by_dept(leaf) == _path(org, leaf)


def test_api_departments_list_fetch_child_returns_the_subtree(world, org):
    everything = world.client.departments.list(1, fetch_child=True)
    assert sorted(d.id for d in everything) == sorted(d for d in org["depts"] if d != 1)


def test_api_departments_parents_of_user_one_path_per_membership(world, org):
    user = next(u for u in org["users"].values() if u["depts"] != [1])
    paths = world.client.departments.list_parent_depts_of_user(user["userid"])
    assert sorted(map(tuple, paths)) == sorted(tuple(_path(org, d)) for d in user["depts"])


def test_api_departments_unknown_id_is_not_found(world):
    with pytest.raises(NotFound) as caught:
        world.client.departments.get(999999999)
    assert caught.value.errcode == 60003


def test_api_users_v1_round_trip(world, org):
    client = world.client
    userid, info = next(iter(org["users"].items()))
    user = client.users.get(userid)
    assert (user.userid, user.name, user.unionid) == (userid, info["name"], info["unionid"])
    assert list(user.dept_ids) == info["depts"]
    assert user.title == info["position"] and user.job_number == info["jobnumber"]
    assert client.users.org_user_count() == 40
    assert client.users.org_user_count(only_active=True) == sum(
        1 for u in org["users"].values() if u["active"])
    lookup = client.users.userid_by_unionid(info["unionid"])
    assert (lookup.userid, lookup.contact_type) == (userid, 0)


def test_api_users_dept_member_ids_are_direct_members(emulator, world):
    dept_id, members = busiest_dept(emulator, world.corp["corp_id"])
    assert sorted(world.client.users.dept_member_ids(dept_id)) == sorted(members)


def test_api_users_unknown_userid_is_not_found(world):
    with pytest.raises(NotFound):
        world.client.users.get("nobody-here")


def test_api_users_list_by_page_walks_every_page_once(emulator, world):
    dept_id, members = busiest_dept(emulator, world.corp["corp_id"])
    assert len(members) > 6
    page = world.client.users.list_page(dept_id, offset=0, size=3)
    assert len(page.users) == 3 and page.has_more
    users = list(world.client.users.list_by_page(dept_id, size=3))
    assert sorted(u.userid for u in users) == sorted(members)
    assert len({u.userid for u in users}) == len(users)
    # One page above, then ceil(n / 3) pages for the walk.
    assert world.calls("user/listbypage") == 1 + math.ceil(len(members) / 3)


def test_api_auth_scopes_internal_app_sees_the_root(world):
    scopes = world.client.auth.scopes()
    assert scopes.authed_dept_ids == (1,)
    assert "userid" in scopes.user_fields


def test_api_contacts_v2_departments_round_trip(world, org):
    contacts = world.client.contacts
    assert sorted(d.id for d in contacts.department_list_sub(1)) == _children(org, 1)
    assert sorted(contacts.department_list_sub_ids(1)) == _children(org, 1)
    child = _children(org, 1)[0]
    dept = contacts.department_get(child)
    assert (dept.id, dept.name, dept.parent_id) == (child, org["depts"][child]["name"], 1)
    leaf = _leaf(org)
    assert contacts.department_parents_by_dept(leaf) == _path(org, leaf)
    user = next(u for u in org["users"].values() if u["depts"] != [1])
    paths = contacts.department_parents_by_user(user["userid"])
    assert sorted(map(tuple, paths)) == sorted(tuple(_path(org, d)) for d in user["depts"])


def test_api_contacts_v2_users_round_trip(emulator, world, org):
    contacts = world.client.contacts
    userid, info = next(iter(org["users"].items()))
    user = contacts.user_get(userid)
    assert (user.userid, user.name, list(user.dept_ids)) == (userid, info["name"], info["depts"])
    assert contacts.user_count() == 40
    active = sum(1 for u in org["users"].values() if u["active"])
    assert active < 40 and contacts.user_count(only_active=True) == active
    lookup = contacts.user_by_unionid(info["unionid"])
    assert (lookup.userid, lookup.contact_type) == (userid, 0)
    dept_id, members = busiest_dept(emulator, world.corp["corp_id"])
    assert sorted(contacts.user_list_ids(dept_id)) == sorted(members)


def test_api_contacts_v2_user_list_follows_the_cursor(emulator, world):
    dept_id, members = busiest_dept(emulator, world.corp["corp_id"])
    page = world.client.contacts.user_list_page(dept_id, cursor=0, size=4)
    assert len(page.users) == 4 and page.has_more and page.next_cursor
    users = list(world.client.contacts.user_list(dept_id, size=4))
    assert sorted(u.userid for u in users) == sorted(members)
    assert world.calls("topapi/v2/user/list") == 1 + math.ceil(len(members) / 4)


def test_api_contacts_v2_unknown_user_is_not_found(world):
    with pytest.raises(NotFound) as caught:
        world.client.contacts.user_get("nobody-here")
    assert caught.value.request_id
