"""client.users.getuserinfo: SSO auth codes exchanged against the emulator (PROTOCOL-ISV 1.2)."""

import pytest

from dingtalk.api import SsoUser
from dingtalk.errors import InvalidRequest, PermissionDenied
from tests.dingtalk.test_client_support import world_fixture  # noqa: F401 (a fixture)
from tests.dingtalk.test_isv import Isv


@pytest.fixture(name="isv")
def isv_fixture(emulator):
    corp = emulator.create_corp(users=20)
    suite = emulator.create_suite(name="Suite")
    auth = emulator.authorize(suite["suite_key"], corp["corp_id"])
    world = Isv(emulator, corp, suite, auth, None)
    world.api = world.new_api()
    return world


def _user(emulator, corp_id, userid):
    return next(u for u in emulator.get_corp(corp_id)["users"] if u["userid"] == userid)


def test_getuserinfo_v2_returns_the_typed_user(emulator, world):
    corp_id, userid = world.corp["corp_id"], world.corp["userids"][3]
    emulator.contact_change(corp_id, "user_modify_org", user={"userid": userid,
                                                                "is_admin": True})
    user = world.client.users.getuserinfo(emulator.sso_code(corp_id, userid))
    expected = _user(emulator, corp_id, userid)
    assert isinstance(user, SsoUser)
    assert (user.userid, user.unionid, user.name) == (userid, expected["unionid"],
                                                       expected["name"])
    assert (user.is_admin, user.sys_level) == (True, 1)
    assert user.device_id


def test_getuserinfo_legacy_form(emulator, world):
    corp_id, userid = world.corp["corp_id"], world.corp["userids"][0]
    expected = _user(emulator, corp_id, userid)
    user = world.client.users.getuserinfo(emulator.sso_code(corp_id, userid), legacy=True)
    assert (user.userid, user.unionid, user.is_admin) == (userid, "", expected["is_admin"])
    assert user.name == expected["name"] and user.device_id
    level = 1 if expected["is_admin"] else 100 if expected["is_boss"] else 0
    assert user.sys_level == level
    emulator.set_config(sso_legacy_sys_level_str=True)  # the Java SDK's String form
    user = world.client.users.getuserinfo(emulator.sso_code(corp_id, userid), legacy=True)
    assert user.sys_level == level


@pytest.mark.parametrize("legacy", [False, True])
def test_used_and_expired_codes_raise_invalid_request_40078(emulator, world, legacy):
    corp_id, userid = world.corp["corp_id"], world.corp["userids"][0]
    code = emulator.sso_code(corp_id, userid)
    world.client.users.getuserinfo(code, legacy=legacy)
    with pytest.raises(InvalidRequest) as used:
        world.client.users.getuserinfo(code, legacy=legacy)
    stale = emulator.sso_code(corp_id, userid)
    emulator.advance(301)
    with pytest.raises(InvalidRequest) as expired:
        world.client.users.getuserinfo(stale, legacy=legacy)
    assert used.value.errcode == expired.value.errcode == 40078


def test_user_outside_the_suite_scope_raises_permission_denied_40079(emulator, isv):
    corp_id = isv.corp_id
    detail = emulator.get_corp(corp_id)
    sub = next(d["id"] for d in detail["departments"] if d["parent_id"] == 1)
    emulator.change_auth(isv.key, corp_id, authed_dept=[sub], authed_user=[])
    outside = next(u["userid"] for u in detail["users"] if sub not in u["depts"]
                   and all(d == 1 for d in u["depts"]))
    client = isv.api.corp_client(corp_id)
    with pytest.raises(PermissionDenied) as denied:
        client.users.getuserinfo(emulator.sso_code(corp_id, outside))
    assert denied.value.errcode == 40079
    inside = next(u["userid"] for u in detail["users"] if sub in u["depts"])
    assert client.users.getuserinfo(emulator.sso_code(corp_id, inside)).userid == inside
