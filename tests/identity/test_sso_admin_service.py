"""identity.services.sso_admin against the emulator over HTTP: the exchange with the ISV's own
credentials, the assertion (signed, stored hashed, single use, short-lived), which ISV row
serves a login, DingTalk's 41007 and failures mapped, the secret encrypted at rest."""

import threading
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.db import connection

from dingtalk.sso_admin import SSO_CODE_INVALID
from identity.errors import (
    AssertionExpired,
    AssertionInvalid,
    AssertionNotFound,
    AssertionUsed,
    SsoAdminCodeInvalid,
    SsoAdminDingTalkFailed,
    SsoAdminInputInvalid,
    SsoAdminIsvRequired,
    SsoAdminNotConfigured,
)
from identity.models import AdminSsoAssertion, AdminSsoCredential
from identity.services.sso_admin import sso_admin_login, sso_admin_redeem
from tenants.models import Tenant
from tests.conftest import advance_time
from tests.identity.sso_admin_world import make_admin_sso_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def world(emulator, make_suite):
    return make_admin_sso_world(emulator, make_suite)


def _redeem(world, login, suite=None):
    return sso_admin_redeem(suite=suite or world.suite, assertion=login.assertion,
                            tenants=Tenant.objects.all())


def test_login_then_redeem_once(emulator, world):
    login = sso_admin_login(code=world.code(emulator))
    url = urlsplit(login.redirect_url)
    assert (url.scheme, url.netloc, url.path) == ("https", "product.example", "/admin/sso")
    query = parse_qs(url.query)
    assert query == {"lang": ["zh"], "assertion": [login.assertion]}
    record = AdminSsoAssertion.objects.get()
    assert login.assertion.split(":")[0] not in record.digest  # only a digest is kept
    got = _redeem(world, login)
    assert (got.record.userid, got.record.name, got.record.email, got.record.is_sys,
            got.record.corp_id, got.record.corp_name) == (
        world.admin["userid"], world.admin["name"], world.admin["email"], True,
        world.corp["corp_id"], world.corp["name"])
    assert got.tenant == world.tenant
    assert got.record.redeemed_by_id == world.suite.pk
    with pytest.raises(AssertionUsed):
        _redeem(world, login)


def test_assertion_lives_the_configured_ttl(emulator, world, settings):
    settings.IDENTITY_SSO_ADMIN_ASSERTION_TTL_S = 30
    fresh = sso_admin_login(code=world.code(emulator))
    stale = sso_admin_login(code=world.code(emulator))
    advance_time(emulator, 29)
    assert _redeem(world, fresh).record.userid == world.admin["userid"]
    advance_time(emulator, 2)
    with pytest.raises(AssertionExpired) as expired:
        _redeem(world, stale)
    assert expired.value.http_status == 410


def test_default_ttl_is_120_s(emulator, world):
    login = sso_admin_login(code=world.code(emulator))
    assert (login.record.expires_at - login.record.issued_at).total_seconds() == 120


def test_code_used_twice_is_41007_mapped(emulator, world):
    code = world.code(emulator)
    sso_admin_login(code=code)
    with pytest.raises(SsoAdminCodeInvalid) as used:
        sso_admin_login(code=code)
    assert used.value.extra == {"errcode": SSO_CODE_INVALID}
    assert code not in used.value.message
    assert AdminSsoAssertion.objects.count() == 1


def test_admin_of_a_corp_that_never_authorized_gets_an_assertion_without_tenant(
        emulator, world):
    stranger = emulator.create_corp(users=3)
    got = _redeem(world, sso_admin_login(code=world.code(emulator, stranger)))
    assert (got.record.corp_id, got.tenant) == (stranger["corp_id"], None)


def test_relieved_tenant_is_null_and_key_restricted_tenants_respected(emulator, world):
    world.tenant.status = Tenant.Status.RELIEVED
    world.tenant.save(update_fields=["status"])
    assert _redeem(world, sso_admin_login(code=world.code(emulator))).tenant is None
    world.tenant.status = Tenant.Status.AUTHORIZED
    world.tenant.save(update_fields=["status"])
    got = sso_admin_redeem(suite=world.suite, tenants=Tenant.objects.none(),
                           assertion=sso_admin_login(code=world.code(emulator)).assertion)
    assert got.tenant is None


def test_another_suite_cannot_redeem_and_does_not_spend_it(emulator, world, make_suite):
    other, _ = make_suite()
    login = sso_admin_login(code=world.code(emulator))
    for suite in (other, None):
        with pytest.raises(AssertionNotFound):
            sso_admin_redeem(suite=suite, assertion=login.assertion,
                             tenants=Tenant.objects.all())
    assert _redeem(world, login).record.redeemed_at is not None


@pytest.mark.parametrize("assertion", ["", "x", "abc:def", "a" * 201, "a\x00b", None, 5])
def test_assertion_not_ours_is_invalid(world, assertion):
    with pytest.raises(AssertionInvalid):
        sso_admin_redeem(suite=world.suite, assertion=assertion, tenants=Tenant.objects.all())


def test_signed_with_another_salt_is_invalid(world):
    from django.core import signing

    forged = signing.Signer(salt="something.else").sign("A" * 43)
    with pytest.raises(AssertionInvalid):
        sso_admin_redeem(suite=world.suite, assertion=forged, tenants=Tenant.objects.all())


def test_well_signed_but_unknown_is_not_found(world):
    from django.core import signing

    from identity.services.sso_admin import ASSERTION_SALT

    unknown = signing.Signer(salt=ASSERTION_SALT).sign("B" * 43)
    with pytest.raises(AssertionNotFound):
        sso_admin_redeem(suite=world.suite, assertion=unknown, tenants=Tenant.objects.all())


@pytest.mark.parametrize("code", ["", "a\x00b", "c" * 257, "é" * 10, "a b", None, 7])
def test_bad_code_refused_before_any_call(emulator, world, code):
    before = emulator.counters()["calls"]
    with pytest.raises(SsoAdminInputInvalid):
        sso_admin_login(code=code)
    assert emulator.counters()["calls"] == before


def test_credentials_chosen_by_isv_when_several(emulator, world, make_suite):
    assert sso_admin_login(code=world.code(emulator)).record.credential == world.credential
    second = make_admin_sso_world(emulator, make_suite)
    code = second.code(emulator)
    with pytest.raises(SsoAdminIsvRequired):
        sso_admin_login(code=code)
    login = sso_admin_login(code=code, isv=second.credential.corp_id)
    assert login.record.credential == second.credential
    with pytest.raises(SsoAdminNotConfigured):
        sso_admin_login(code=second.code(emulator), isv="dingnosuchisv")
    with pytest.raises(SsoAdminInputInvalid):
        sso_admin_login(code=second.code(emulator), isv="x\x00")


def test_not_configured_or_disabled(emulator, world):
    AdminSsoCredential.objects.update(enabled=False)
    with pytest.raises(SsoAdminNotConfigured):
        sso_admin_login(code=world.code(emulator))


def test_dingtalk_down_or_refusing_is_502(emulator, world):
    emulator.add_fault("sso/getuserinfo", drop=True, count=3)
    with pytest.raises(SsoAdminDingTalkFailed) as down:
        sso_admin_login(code=world.code(emulator))
    assert down.value.http_status == 502
    emulator.clear_faults()
    emulator.isv_set(world.credential.corp_id, sso_secret="rotated-at-dingtalk")
    with pytest.raises(SsoAdminDingTalkFailed) as refused:
        sso_admin_login(code=world.code(emulator))
    assert refused.value.extra["errcode"] == 40089
    assert world.sso_secret not in str(refused.value.as_dict())
    assert not AdminSsoAssertion.objects.exists()


def test_sso_token_cached_across_logins(emulator, world):
    for _ in range(3):
        sso_admin_login(code=world.code(emulator))
    assert emulator.counters()["calls"]["sso/gettoken"] == 1


def test_secret_encrypted_at_rest_and_not_in_repr(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sso_secret FROM identity_adminssocredential WHERE id = %s",
                       [world.credential.pk])
        stored = cursor.fetchone()[0]
    assert world.sso_secret not in stored
    assert AdminSsoCredential.objects.get().sso_secret == world.sso_secret
    assert world.sso_secret not in repr(world.credential) + str(world.credential)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_redeems_one_wins(emulator, make_suite):
    world = make_admin_sso_world(emulator, make_suite)
    login = sso_admin_login(code=world.code(emulator))
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem():
        barrier.wait()
        try:
            outcomes.append(_redeem(world, login).record.userid)
        except AssertionUsed:
            outcomes.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == sorted([world.admin["userid"], "used"])


def test_landing_url_keeps_its_query_and_replaces_an_assertion(emulator, make_suite):
    world = make_admin_sso_world(emulator, make_suite,
                                 landing_url="https://p.example/a?assertion=old&b=2#top")
    login = sso_admin_login(code=world.code(emulator))
    url = urlsplit(login.redirect_url)
    assert parse_qs(url.query) == {"b": ["2"], "assertion": [login.assertion]}
    assert url.fragment == "top"


def test_landing_url_query_kept_byte_for_byte(emulator, make_suite):
    # The product's own query is its business: a GBK-encoded value, a bare flag and %20 stay as
    # written (decoding and re-encoding them as UTF-8 turned 中文 into U+FFFD).
    world = make_admin_sso_world(
        emulator, make_suite,
        landing_url="https://p.example/a?org=%D6%D0%CE%C4&flag&q=a%20b&assertionx=1#/r?x=1")
    login = sso_admin_login(code=world.code(emulator))
    assert login.redirect_url == ("https://p.example/a?org=%D6%D0%CE%C4&flag&q=a%20b"
                                  f"&assertionx=1&assertion={quote(login.assertion)}#/r?x=1")
    assert parse_qs(urlsplit(login.redirect_url).query)["assertion"] == [login.assertion]


def test_admin_name_postgresql_cannot_hold_as_given_is_stored_cleaned(emulator, make_suite):
    world = make_admin_sso_world(emulator, make_suite)
    emulator.contact_change(world.corp["corp_id"], "user_modify_org", user={
        "userid": world.admin["userid"], "name": "Ad\x00min " + "管" * 300})
    login = sso_admin_login(code=world.code(emulator))
    assert login.record.name == ("Ad\ufffdmin " + "管" * 300)[:200]
