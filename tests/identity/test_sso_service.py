"""identity.services.sso against the emulator over HTTP: the exchange, the upsert per (tenant,
userid), DingTalk's 40078/40079 mapped, input refused before any call, an inactive tenant."""

import pytest

from core import clock
from identity.errors import SsoCodeInvalid, SsoInputInvalid, SsoUserNotVisible
from identity.models import TenantUser
from identity.services.sso import sso_user_exchange
from tenants.errors import TenantInactive
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _remote_user(emulator, corp_id, userid):
    return next(u for u in emulator.get_corp(corp_id)["users"] if u["userid"] == userid)


def test_exchange_records_the_user_and_updates_it_on_the_next_login(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    userid = corp["userids"][2]
    user = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    remote = _remote_user(emulator, corp["corp_id"], userid)
    assert (user.tenant_id, user.userid, user.unionid, user.name) == (
        tenant.pk, userid, remote["unionid"], remote["name"])
    assert user.is_admin is remote["is_admin"]
    first_seen = user.first_seen_at
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": userid, "name": "Renamed", "is_admin": True})
    again = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    assert again.pk == user.pk and TenantUser.objects.filter(tenant=tenant).count() == 1
    assert (again.name, again.is_admin, again.sys_level) == ("Renamed", True, 1)
    assert again.first_seen_at == first_seen and again.last_seen_at >= first_seen
    assert again.last_seen_at <= clock.now()


def test_same_person_in_two_tenants_shares_the_unionid_only_if_dingtalk_says_so(
        emulator, make_suite):
    one, corp_one = authorized_tenant(emulator, make_suite)
    two, corp_two = authorized_tenant(emulator, make_suite)
    a = sso_user_exchange(tenant=one, code=emulator.sso_code(corp_one["corp_id"],
                                                             corp_one["userids"][0]))
    b = sso_user_exchange(tenant=two, code=emulator.sso_code(corp_two["corp_id"],
                                                             corp_two["userids"][0]))
    assert TenantUser.objects.filter(unionid=a.unionid).get() == a
    assert b.tenant_id == two.pk and a.tenant_id == one.pk


def test_used_or_expired_code_is_sso_code_invalid(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    sso_user_exchange(tenant=tenant, code=code)
    with pytest.raises(SsoCodeInvalid) as used:
        sso_user_exchange(tenant=tenant, code=code)
    assert used.value.http_status == 400 and "5 minutes" in used.value.message
    assert code not in used.value.message
    stale = emulator.sso_code(corp["corp_id"], corp["userids"][1])
    emulator.advance(301)
    with pytest.raises(SsoCodeInvalid):
        sso_user_exchange(tenant=tenant, code=stale)
    assert not TenantUser.objects.filter(userid=corp["userids"][1]).exists()


def test_user_outside_the_scope_is_not_visible(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    detail = emulator.get_corp(corp["corp_id"])
    sub = next(d["id"] for d in detail["departments"] if d["parent_id"] == 1)
    emulator.change_auth(tenant.suite.suite_key, corp["corp_id"], authed_dept=[sub],
                         authed_user=[])
    outside = next((u["userid"] for u in detail["users"] if sub not in u["depts"]), None)
    if outside is None:  # every user sits in the sub-department: add one outside it
        emulator.contact_change(corp["corp_id"], "user_add_org",
                                user={"userid": "outsider", "depts": [1]})
        outside = "outsider"
    with pytest.raises(SsoUserNotVisible) as denied:
        sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], outside))
    assert denied.value.http_status == 403
    assert not TenantUser.objects.filter(tenant=tenant).exists()


def test_legacy_setting_uses_user_getuserinfo(emulator, make_app, settings):
    settings.IDENTITY_SSO_LEGACY_GETUSERINFO = True
    tenant, corp, _ = make_app(users=3)
    userid = corp["userids"][0]
    before = emulator.counters()
    user = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    assert user.userid == userid and user.unionid == ""
    calls = emulator.counters()
    assert _endpoint_calls(calls, "user/getuserinfo") == _endpoint_calls(
        before, "user/getuserinfo") + 1
    # A v2 login later fills the unionid; a legacy one after it keeps it.
    settings.IDENTITY_SSO_LEGACY_GETUSERINFO = False
    filled = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    assert filled.unionid == _remote_user(emulator, corp["corp_id"], userid)["unionid"]
    settings.IDENTITY_SSO_LEGACY_GETUSERINFO = True
    kept = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    assert kept.unionid == filled.unionid


def _endpoint_calls(counters: dict, endpoint: str) -> int:
    return counters["calls"].get(endpoint, 0)


@pytest.mark.parametrize("code", ["", "   ", None, 42, "x" * 257, "ab\x00cd"])
def test_input_no_code_could_be_is_refused_before_any_call(emulator, make_suite, code):
    tenant, _ = authorized_tenant(emulator, make_suite)
    before = emulator.counters()
    with pytest.raises(SsoInputInvalid):
        sso_user_exchange(tenant=tenant, code=code)
    assert emulator.counters().get("calls") == before.get("calls")


def test_inactive_tenant_is_refused(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    tenant.suspended = True
    tenant.save(update_fields=["suspended"])
    code = emulator.sso_code(corp["corp_id"], corp["userids"][0])
    with pytest.raises(TenantInactive):
        sso_user_exchange(tenant=tenant, code=code)
    assert not TenantUser.objects.exists()


def test_exchange_stores_a_name_postgresql_cannot_hold_as_given(emulator, make_suite):
    # DingTalk's names are the customer's free text: a NUL or more than the column holds must
    # not turn a login into a 500.
    tenant, corp = authorized_tenant(emulator, make_suite)
    userid = corp["userids"][1]
    emulator.contact_change(corp["corp_id"], "user_modify_org",
                            user={"userid": userid, "name": "Zh\x00ang " + "名" * 300})
    user = sso_user_exchange(tenant=tenant, code=emulator.sso_code(corp["corp_id"], userid))
    assert user.name == ("Zh\ufffdang " + "名" * 300)[:200]
    assert TenantUser.objects.get(pk=user.pk).name == user.name
