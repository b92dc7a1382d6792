"""POST /api/v1/sso/user against the emulator over HTTP: a control-issued code exchanged once,
refused when used or expired (400 sso_code_invalid), a user outside the scope (403), a corp the
key cannot see (404), an inactive tenant (409), bad input (400, no DingTalk call)."""

import pytest

from identity.models import TenantUser
from tests.api.conftest import key_client
from tests.conftest import advance_time

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/sso/user"


def _remote(emulator, corp_id, userid):
    return next(u for u in emulator.get_corp(corp_id)["users"] if u["userid"] == userid)


def test_exchange_once_then_used_code_400(emulator, make_suite_side):
    side = make_suite_side(tenants=2)
    corp = side.corps[1]
    userid = corp["userids"][1]
    code = emulator.sso_code(corp["corp_id"], userid)
    response = side.client.post(URL, {"corp_id": corp["corp_id"], "code": code}, format="json")
    assert response.status_code == 200, response.content[:300]
    remote = _remote(emulator, corp["corp_id"], userid)
    assert response.json() == {"userid": userid, "unionid": remote["unionid"],
                               "name": remote["name"], "is_admin": remote["is_admin"],
                               "sys_level": 1 if remote["is_admin"] else
                               100 if remote["is_boss"] else 0,
                               "corp_id": corp["corp_id"]}
    row = TenantUser.objects.get(userid=userid)
    assert row.tenant_id == side.tenants[1].pk
    again = side.client.post(URL, {"corp_id": corp["corp_id"], "code": code}, format="json")
    assert again.status_code == 400, again.content[:300]
    error = again.json()["error"]
    assert error["code"] == "sso_code_invalid" and "5 minutes" in error["message"]
    assert code not in again.content.decode()


def test_code_older_than_five_minutes_400(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    corp = side.corps[0]
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    advance_time(emulator, 301)
    response = side.client.post(URL, {"corp_id": corp["corp_id"], "code": code}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "sso_code_invalid"
    assert not TenantUser.objects.exists()


def test_user_outside_the_authorized_scope_403(emulator, make_suite_side):
    side = make_suite_side(tenants=1, users=30)
    tenant, corp = side.tenants[0], side.corps[0]
    detail = emulator.get_corp(corp["corp_id"])
    sub = next(d["id"] for d in detail["departments"] if d["parent_id"] == 1)
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[sub],
                         authed_user=[])
    emulator.contact_change(corp["corp_id"], "user_add_org",
                            user={"userid": "outsider", "depts": [1]})
    response = side.client.post(URL, {"corp_id": corp["corp_id"], "code": emulator.sso_code(
        corp["corp_id"], "outsider")}, format="json")
    assert response.status_code == 403, response.content[:300]
    assert response.json()["error"]["code"] == "sso_user_not_visible"
    assert not TenantUser.objects.exists()


def test_another_suites_corp_404(emulator, make_suite_side):
    mine, theirs = make_suite_side(tenants=1), make_suite_side(tenants=1)
    corp = theirs.corps[0]
    before = emulator.counters()["calls"]
    response = mine.client.post(URL, {"corp_id": corp["corp_id"], "code": emulator.sso_code(
        corp["corp_id"], corp["userids"][0])}, format="json")
    assert response.status_code == 404, response.content[:300]
    assert response.json()["error"]["code"] == "tenant_not_found"
    assert emulator.counters()["calls"] == before


def test_inactive_tenant_409(emulator, make_app_side):
    tenant, corp, key = make_app_side()
    tenant.suspended = True
    tenant.save(update_fields=["suspended"])
    response = key_client(key).post(URL, {"corp_id": corp["corp_id"], "code": emulator.sso_code(
        corp["corp_id"], corp["userids"][0])}, format="json")
    assert response.status_code == 409, response.content[:300]
    assert response.json()["error"]["code"] == "tenant_inactive"


def test_internal_app_exchange(emulator, make_app_side):
    tenant, corp, key = make_app_side()
    userid = corp["userids"][0]
    response = key_client(key).post(URL, {"corp_id": corp["corp_id"], "code": emulator.sso_code(
        corp["corp_id"], userid)}, format="json")
    assert response.status_code == 200, response.content[:300]
    assert (response.json()["userid"], response.json()["corp_id"]) == (userid, tenant.corp_id)


@pytest.mark.parametrize(("body", "field"), [
    ({}, "corp_id"),
    ({"code": None}, "code"),
    ({"corp_id": 5, "code": "abc"}, "corp_id"),
    ({"code": 123}, "code"),
    ({"code": ""}, "code"),
    ({"code": "   "}, "code"),
    ({"code": "c" * 257}, "code"),
    ({"code": ["abc"]}, "code"),
    ({"corp_id": "d" * 65}, "corp_id"),
])
def test_bad_input_400_naming_the_field(emulator, make_suite_side, body, field):
    side = make_suite_side(tenants=1)
    full = {"corp_id": side.corps[0]["corp_id"], "code": "abc", **body}
    if not body:
        full = {}
    before = emulator.counters()["calls"]
    response = side.client.post(URL, full, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["error"]["details"]
    assert emulator.counters()["calls"] == before
    assert not TenantUser.objects.exists()


def test_no_key_401(emulator):
    before = emulator.counters()["calls"]
    response = key_client(None).post(URL, {"corp_id": "x", "code": "y"}, format="json")
    assert response.status_code == 401
    assert emulator.counters()["calls"] == before
