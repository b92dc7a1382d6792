"""A userid or unionid DingTalk answers that PostgreSQL cannot keep as given (a NUL, a lone
surrogate, longer than its column) is refused with a 502-class error for both tenant-user and
admin-console SSO: never a 500, never a row cut or cleaned into another person's identity."""

import json

import pytest

from identity.errors import SsoAdminDingTalkFailed, SsoAnswerUnstorable
from identity.models import AdminSsoAssertion, TenantUser
from identity.services.sso import sso_user_exchange
from identity.services.sso_admin import sso_admin_login
from tests.api.conftest import make_suite_side  # noqa: F401
from tests.identity.sso_admin_world import make_admin_sso_world
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

HOSTILE = ["u\x00x", "u\ud800x", "u" * 65]


def _getuserinfo_answer(userid: str, unionid: str) -> str:
    # Built as DingTalk's wire answer: JSON escapes carry the NUL / lone surrogate.
    return json.dumps({"errcode": 0, "errmsg": "ok", "request_id": "r", "result": {
        "userid": userid, "unionid": unionid, "name": "N", "device_id": "d", "sys": False,
        "sys_level": 0, "associated_unionid": ""}})


@pytest.mark.parametrize("userid", HOSTILE)
def test_tenant_user_sso_refuses_a_userid_it_cannot_store(emulator, make_suite, userid):
    tenant, corp = authorized_tenant(emulator, make_suite)
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    emulator.add_fault("topapi/v2/user/getuserinfo", corp_id=corp["corp_id"], count=1,
                       raw_body=_getuserinfo_answer(userid, "union1"))
    with pytest.raises(SsoAnswerUnstorable) as refused:
        sso_user_exchange(tenant=tenant, code=code)
    assert refused.value.http_status == 502 and refused.value.code == "sso_dingtalk_answer_invalid"
    assert refused.value.extra["field"] == "userid"
    assert not TenantUser.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("unionid", ["n\x00x", "n\udfffx", "n" * 101])
def test_tenant_user_sso_refuses_a_unionid_it_cannot_store(emulator, make_suite, unionid):
    tenant, corp = authorized_tenant(emulator, make_suite)
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    emulator.add_fault("topapi/v2/user/getuserinfo", corp_id=corp["corp_id"], count=1,
                       raw_body=_getuserinfo_answer("good1", unionid))
    with pytest.raises(SsoAnswerUnstorable) as refused:
        sso_user_exchange(tenant=tenant, code=code)
    assert refused.value.extra["field"] == "unionid"
    assert not TenantUser.objects.filter(tenant=tenant).exists()


def test_tenant_user_sso_refuses_a_nul_userid_of_the_emulators_own_user(emulator, make_suite):
    # The user really is so named at DingTalk (no rewritten answer): the same refusal.
    tenant, corp = authorized_tenant(emulator, make_suite)
    emulator.contact_change(corp["corp_id"], "user_add_org",
                            user={"userid": "bad\x00id", "depts": [1]})
    with pytest.raises(SsoAnswerUnstorable):
        sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], "bad\x00id"))
    assert not TenantUser.objects.filter(tenant=tenant).exists()
    # A user with a storable id still logs in afterwards.
    assert sso_user_exchange(tenant=tenant, code=emulator.sso_code(
        corp["corp_id"], corp["userids"][0])).userid == corp["userids"][0]


@pytest.mark.parametrize("userid", HOSTILE)
def test_admin_sso_refuses_a_userid_it_cannot_store(emulator, make_suite, userid):
    world = make_admin_sso_world(emulator, make_suite)
    code = world.code(emulator)
    emulator.add_fault("sso/getuserinfo", count=1, raw_body=json.dumps({
        "errcode": 0, "errmsg": "ok", "is_sys": True,
        "user_info": {"name": "A", "avatar": "", "userid": userid, "email": ""},
        "corp_info": {"corpid": world.corp["corp_id"], "corp_name": "C"}}))
    with pytest.raises(SsoAdminDingTalkFailed) as refused:
        sso_admin_login(code=code)
    assert refused.value.http_status == 502 and refused.value.extra["field"] == "userid"
    assert not AdminSsoAssertion.objects.filter(credential=world.credential).exists()


@pytest.mark.parametrize("corp_id", ["ding\x00x", "d" * 65])
def test_admin_sso_refuses_a_corp_id_it_cannot_store(emulator, make_suite, corp_id):
    world = make_admin_sso_world(emulator, make_suite)
    code = world.code(emulator)
    emulator.add_fault("sso/getuserinfo", count=1, raw_body=json.dumps({
        "errcode": 0, "errmsg": "ok", "is_sys": True,
        "user_info": {"name": "A", "avatar": "", "userid": "admin1", "email": ""},
        "corp_info": {"corpid": corp_id, "corp_name": "C"}}))
    with pytest.raises(SsoAdminDingTalkFailed) as refused:
        sso_admin_login(code=code)
    assert refused.value.extra["field"] == "corp_id"
    assert not AdminSsoAssertion.objects.filter(credential=world.credential).exists()


def test_the_api_answers_a_clear_502_not_a_500(emulator, make_suite_side):  # noqa: F811
    side = make_suite_side(tenants=1)
    corp = side.corps[0]
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    emulator.add_fault("topapi/v2/user/getuserinfo", corp_id=corp["corp_id"], count=1,
                       raw_body=_getuserinfo_answer("u\x00x", "union1"))
    response = side.client.post("/api/v1/sso/user", {"corp_id": corp["corp_id"], "code": code},
                                format="json")
    assert response.status_code == 502, response.content[:300]
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("sso_dingtalk_answer_invalid",
                                                          "userid")
    assert not TenantUser.objects.exists()


def test_the_admin_sso_page_answers_a_clear_502(client, emulator, make_suite):
    world = make_admin_sso_world(emulator, make_suite)
    code = world.code(emulator)
    emulator.add_fault("sso/getuserinfo", count=1, raw_body=json.dumps({
        "errcode": 0, "errmsg": "ok", "is_sys": True,
        "user_info": {"name": "A", "avatar": "", "userid": "a\x00b", "email": ""},
        "corp_info": {"corpid": world.corp["corp_id"], "corp_name": "C"}}))
    response = client.get("/sso/admin/", {"code": code}, HTTP_ACCEPT="application/json")
    assert response.status_code == 502 and "Location" not in response
    assert response.json()["error"]["code"] == "sso_admin_dingtalk_failed"
    assert not AdminSsoAssertion.objects.exists()
