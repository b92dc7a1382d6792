"""Tenant-user SSO (PROTOCOL-ISV 1.2): control-issued codes, both getuserinfo forms."""

import requests
from emulator_helpers import corp_token_signed, get, internal_app, isv_app, post

from dingtalk.emulator.control_client import EmulatorControlError


def _v2(emulator, token, code):
    return post(emulator, "topapi/v2/user/getuserinfo", token, body={"code": code})


def test_v2_answers_the_users_fields(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=5)
    userid = corp["userids"][0]
    body = _v2(emulator, token, emulator.sso_code(corp["corp_id"], userid))
    assert body["errcode"] == 0, body
    user = next(u for u in emulator.get_corp(corp["corp_id"])["users"] if u["userid"] == userid)
    result = body["result"]
    assert result["userid"] == userid
    assert result["unionid"] == user["unionid"]
    assert result["name"] == user["name"]
    assert result["sys"] is user["is_admin"]
    assert result["sys_level"] in (0, 1, 100)
    assert set(result) == {"userid", "unionid", "name", "device_id", "sys", "sys_level",
                           "associated_unionid"}


def test_admin_sys_level(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": corp["userids"][1], "is_admin": True})
    body = _v2(emulator, token, emulator.sso_code(corp["corp_id"], corp["userids"][1]))
    assert (body["result"]["sys"], body["result"]["sys_level"]) == (True, 1)


def test_code_is_single_use(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    assert _v2(emulator, token, code)["errcode"] == 0
    assert _v2(emulator, token, code)["errcode"] == 40078


def test_code_expires_after_300_s(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    fresh = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    stale = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    emulator.advance(299)
    assert _v2(emulator, token, fresh)["errcode"] == 0
    emulator.advance(2)
    assert _v2(emulator, token, stale)["errcode"] == 40078


def test_wrong_and_empty_codes_40078(emulator):
    _corp, _suite, _record, token = isv_app(emulator, users=3)
    assert _v2(emulator, token, "nope")["errcode"] == 40078
    assert _v2(emulator, token, "")["errcode"] == 40078
    assert post(emulator, "topapi/v2/user/getuserinfo", token, body={})["errcode"] == 40078


def test_code_accepted_as_form_and_query(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    url = f"{emulator.base_url}/topapi/v2/user/getuserinfo"
    form = requests.post(url, data={"access_token": token, "code": emulator.sso_code(
        corp["corp_id"], corp["userids"][0])}, timeout=10).json()
    query = requests.post(url, params={"access_token": token, "code": emulator.sso_code(
        corp["corp_id"], corp["userids"][0])}, timeout=10).json()
    assert form["errcode"] == 0 and query["errcode"] == 0, (form, query)


def test_user_outside_the_authorized_scope_40079(emulator):
    corp = emulator.create_corp(users=30)
    suite = emulator.create_suite(push_style="sync_http")
    detail = emulator.get_corp(corp["corp_id"])
    sub = next(d["id"] for d in detail["departments"] if d["parent_id"] == 1)
    emulator.authorize(suite["suite_key"], corp["corp_id"], authed_dept=[sub])
    token = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    outside = next(u["userid"] for u in detail["users"] if u["depts"] == [1])
    inside = next(u["userid"] for u in detail["users"] if sub in u["depts"])
    assert _v2(emulator, token, emulator.sso_code(corp["corp_id"], outside))["errcode"] == 40079
    assert _v2(emulator, token, emulator.sso_code(corp["corp_id"], inside))["errcode"] == 0


def test_another_corps_code_40078_by_default_and_configurable(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    other = emulator.create_corp(users=3)
    assert _v2(emulator, token, emulator.sso_code(other["corp_id"], other["userids"][0])
               )["errcode"] == 40078
    emulator.set_config(sso_foreign_corp_errcode=40079)
    assert _v2(emulator, token, emulator.sso_code(other["corp_id"], other["userids"][0])
               )["errcode"] == 40079
    assert corp  # the token's own corp is untouched


def test_code_bound_to_another_suite_40078(emulator):
    corp, _suite, _record, token = isv_app(emulator, users=3)
    other = emulator.create_suite(push_style="sync_http")
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0], suite_key=other["suite_key"])
    assert _v2(emulator, token, code)["errcode"] == 40078


def test_legacy_form_flat_fields(emulator):
    corp, _app, token = internal_app(emulator, users=3)
    userid = corp["userids"][0]
    body = get(emulator, "user/getuserinfo", token,
               code=emulator.sso_code(corp["corp_id"], userid))
    assert body["errcode"] == 0, body
    assert body["userid"] == userid and isinstance(body["sys_level"], int)
    assert {"name", "deviceId", "is_sys"} <= set(body)
    emulator.set_config(sso_legacy_sys_level_str=True)
    body = get(emulator, "user/getuserinfo", token,
               code=emulator.sso_code(corp["corp_id"], userid))
    assert isinstance(body["sys_level"], str)
    assert get(emulator, "user/getuserinfo", token, code="x")["errcode"] == 40078


def test_control_route_refuses_unknown_corp_and_user(emulator):
    corp = emulator.create_corp(users=1)
    for args in (("nocorp", "u1"), (corp["corp_id"], "nobody")):
        try:
            emulator.sso_code(*args)
        except EmulatorControlError as exc:
            assert "404" in str(exc)
        else:
            raise AssertionError(f"{args} accepted")


def test_reset_drops_codes(emulator):
    corp, _app, _token = internal_app(emulator, users=1)
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    emulator.reset()
    _corp, _app, token = internal_app(emulator, users=1)
    assert _v2(emulator, token, code)["errcode"] == 40078


def test_both_code_forms_exchange_by_both_calls_once(emulator):
    """The H5 code (dd.requestAuthCode -> {code}) and the mini-program one (dd.getAuthCode ->
    {authCode}) are the same kind of code: the v2 and the legacy getuserinfo both take one, with
    a suite's corp token too, and a code spent by one form is spent for the other."""
    corp, _suite, _record, token = isv_app(emulator, users=3)
    userid = corp["userids"][0]
    h5_code = emulator.sso_code(corp["corp_id"], userid)
    mini_program_auth_code = emulator.sso_code(corp["corp_id"], userid)
    legacy = get(emulator, "user/getuserinfo", token, code=h5_code)
    assert (legacy["errcode"], legacy["userid"]) == (0, userid), legacy
    assert _v2(emulator, token, h5_code)["errcode"] == 40078
    v2 = _v2(emulator, token, mini_program_auth_code)
    assert (v2["errcode"], v2["result"]["userid"]) == (0, userid), v2
    assert get(emulator, "user/getuserinfo", token,
               code=mini_program_auth_code)["errcode"] == 40078
    stale = emulator.sso_code(corp["corp_id"], userid)
    emulator.advance(301)
    assert get(emulator, "user/getuserinfo", token, code=stale)["errcode"] == 40078
