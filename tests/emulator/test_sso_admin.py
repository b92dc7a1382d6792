"""Admin-console SSO (PROTOCOL-ISV 1.3): the ISV's own corp + SSO secret, /sso/gettoken,
/sso/getuserinfo with control-issued admin codes (single use, 300 s, 41007)."""

import json
import os

import pytest
import requests
from emulator_helpers import get

from dingtalk.emulator.control_client import EmulatorControlError

ISV = "dingisvcorp0001"


def _token(emulator, corp_id=ISV, secret=None):
    if secret is None:
        secret = next(i["sso_secret"] for i in emulator._call("GET", "isv")
                      if i["corp_id"] == corp_id)
    return get(emulator, "sso/gettoken", corpid=corp_id, corpsecret=secret)


def _world(emulator, users=4):
    isv = emulator.isv_set(ISV)
    corp = emulator.create_corp(users=users)
    admin = next(u for u in emulator.get_corp(corp["corp_id"])["users"] if u["is_admin"])
    body = _token(emulator, secret=isv["sso_secret"])
    assert body["errcode"] == 0, body
    return corp, admin, body["access_token"]


def _userinfo(emulator, token, code):
    return get(emulator, "sso/getuserinfo", token, code=code)


def test_gettoken_and_getuserinfo_answer_the_documented_shape(emulator):
    corp, admin, token = _world(emulator)
    body = _userinfo(emulator, token, emulator.sso_admin_code(corp["corp_id"], admin["userid"]))
    assert body == {"errcode": 0, "errmsg": "ok",
                    "user_info": {"name": admin["name"], "avatar": admin["avatar"],
                                  "userid": admin["userid"], "email": admin["email"]},
                    "is_sys": True,
                    "corp_info": {"corpid": corp["corp_id"], "corp_name": corp["name"]}}


def test_gettoken_same_token_until_it_expires_then_a_new_one(emulator):
    emulator.isv_set(ISV, sso_secret="s3cret")
    first = _token(emulator, secret="s3cret")
    assert set(first) == {"errcode", "errmsg", "access_token"}  # no expires_in (KB/1449)
    assert _token(emulator, secret="s3cret")["access_token"] == first["access_token"]
    emulator.advance(7201)
    assert _token(emulator, secret="s3cret")["access_token"] != first["access_token"]


def test_gettoken_wrong_secret_or_corp_40089_missing_corpid_40035(emulator):
    emulator.isv_set(ISV, sso_secret="right")
    assert _token(emulator, secret="wrong")["errcode"] == 40089
    assert _token(emulator, secret="")["errcode"] == 40089
    assert _token(emulator, corp_id="dingnobody", secret="right")["errcode"] == 40089
    assert get(emulator, "sso/gettoken", corpsecret="right")["errcode"] == 40035


def test_token_lifetime_configurable_and_expired_token_40014(emulator):
    emulator.set_config(sso_token_ttl_s=60)
    corp, admin, token = _world(emulator)
    emulator.advance(61)
    code = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    assert _userinfo(emulator, token, code)["errcode"] == 40014
    fresh = _token(emulator)["access_token"]
    assert _userinfo(emulator, fresh, code)["errcode"] == 0  # a refused token spends no code


def test_missing_or_unknown_token(emulator):
    corp, admin, _token_value = _world(emulator)
    code = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    assert get(emulator, "sso/getuserinfo", code=code)["errcode"] == 41001
    assert _userinfo(emulator, "nope", code)["errcode"] == 40014


def test_sso_token_is_no_corp_token(emulator):
    _corp, _admin, token = _world(emulator)
    assert get(emulator, "user/get", token, userid="x")["errcode"] == 40014


def test_code_single_use_41007(emulator):
    corp, admin, token = _world(emulator)
    code = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    assert _userinfo(emulator, token, code)["errcode"] == 0
    again = _userinfo(emulator, token, code)
    assert (again["errcode"], again["errmsg"]) == (41007, "无效的ssocode")


def test_code_expires_after_300_s(emulator):
    corp, admin, token = _world(emulator)
    fresh = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    stale = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    emulator.advance(299)
    assert _userinfo(emulator, token, fresh)["errcode"] == 0
    emulator.advance(2)
    assert _userinfo(emulator, token, stale)["errcode"] == 41007


@pytest.mark.parametrize("code", ["", "nope", "x" * 5000, "a\u00e9b"])
def test_wrong_codes_41007(emulator, code):
    _corp, _admin, token = _world(emulator)
    assert _userinfo(emulator, token, code)["errcode"] == 41007


def test_no_code_41007(emulator):
    _corp, _admin, token = _world(emulator)
    assert get(emulator, "sso/getuserinfo", token)["errcode"] == 41007


def test_tenant_user_code_is_not_an_admin_code_and_back(emulator):
    corp, admin, token = _world(emulator)
    user_code = emulator.sso_code(corp["corp_id"], admin["userid"])
    assert _userinfo(emulator, token, user_code)["errcode"] == 41007
    app = emulator.create_app(corp["corp_id"])
    corp_token = get(emulator, "gettoken", appkey=app["appkey"],
                     appsecret=app["appsecret"])["access_token"]
    admin_code = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    assert get(emulator, "user/getuserinfo", corp_token, code=admin_code)["errcode"] == 40078


def test_code_bound_to_another_isv_41007(emulator):
    corp, admin, token = _world(emulator)
    emulator.isv_set("dingotherisv")
    code = emulator.sso_admin_code(corp["corp_id"], admin["userid"], isv_corp_id="dingotherisv")
    assert _userinfo(emulator, token, code)["errcode"] == 41007
    own = emulator.sso_admin_code(corp["corp_id"], admin["userid"], isv_corp_id=ISV)
    assert _userinfo(emulator, token, own)["errcode"] == 0


def test_control_route_only_for_admins_of_a_known_corp(emulator):
    corp, admin, _token_value = _world(emulator)
    plain = next(u["userid"] for u in emulator.get_corp(corp["corp_id"])["users"]
                 if not u["is_admin"])
    for args, kwargs, status in (((corp["corp_id"], plain), {}, "400"),
                                 ((corp["corp_id"], "nobody"), {}, "400"),
                                 (("dingnocorp", admin["userid"]), {}, "404"),
                                 ((corp["corp_id"], admin["userid"]),
                                  {"isv_corp_id": "dingunknown"}, "404")):
        with pytest.raises(EmulatorControlError) as refused:
            emulator.sso_admin_code(*args, **kwargs)
        assert f": {status} " in str(refused.value)


def test_isv_route_checks_input_and_new_secret_ends_old_tokens(emulator):
    for body in ({}, {"corp_id": ""}, {"corp_id": 5}, {"corp_id": ISV, "sso_secret": ""}):
        response = requests.post(f"{emulator.base_url}/_emulator/isv", json=body, timeout=10)
        assert response.status_code == 400, (body, response.text)
    corp, admin, token = _world(emulator)
    emulator.isv_set(ISV, sso_secret="rotated")
    code = emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    assert _userinfo(emulator, token, code)["errcode"] == 40014
    assert _token(emulator, secret="rotated")["errcode"] == 0


def test_isv_corp_and_sso_token_survive_state_save(emulator, tmp_path):
    _corp, _admin, token = _world(emulator)
    path = str(tmp_path / "state.json")
    emulator.save_state(path)
    with open(path, encoding="utf-8") as fh:
        saved = json.load(fh)
    assert [i["corp_id"] for i in saved["isv_corps"]] == [ISV]
    assert [t["value"] for t in saved["sso_tokens"]] == [token]
    from dingtalk.emulator.app import Emulator
    from dingtalk.emulator.persist import load_if_present

    restored = Emulator()
    assert load_if_present(restored, path)
    assert restored.state.isv_corps[ISV].sso_secret == saved["isv_corps"][0]["sso_secret"]
    assert token in restored.state.sso_tokens
    assert saved["isv_corps"][0]["sso_secret"] not in repr(restored.state.isv_corps[ISV])
    os.remove(path)


def test_reset_drops_isv_corps_and_codes(emulator):
    corp, admin, _token_value = _world(emulator)
    emulator.sso_admin_code(corp["corp_id"], admin["userid"])
    emulator.reset()
    assert emulator._call("GET", "isv") == []
    assert _token(emulator, secret="anything")["errcode"] == 40089
