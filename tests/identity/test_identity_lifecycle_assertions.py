"""Which admin-console SSO assertions a tenant's data deletion takes: its suite's, never those
another authorized suite of the same corp may still redeem (identity/lifecycle.py)."""

import json
from datetime import timedelta

import pytest

from core import clock
from identity.models import AdminSsoAssertion, AdminSsoCredential
from tenants.services.lifecycle import tenant_data_delete
from tenants.services.tenants import tenant_relieve
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path / "exports")


def _credential(name, *suites):
    credential = AdminSsoCredential.objects.create(
        corp_id=f"dingisv{name}", sso_secret="s", landing_url="https://isv.example/admin")
    credential.suites.add(*suites)
    return credential


def _assertion(credential, corp_id, name, *, redeemed_by=None, expired=False):
    now = clock.now()
    expires = now - timedelta(minutes=1) if expired else now + timedelta(minutes=2)
    return AdminSsoAssertion.objects.create(
        credential=credential, digest=name.ljust(64, "0"), userid="boss", name=name,
        corp_id=corp_id, issued_at=now - timedelta(minutes=3), expires_at=expires,
        redeemed_at=now if redeemed_by else None, redeemed_by=redeemed_by)


def _world():
    a, b = SuiteFactory(), SuiteFactory()
    tenant_a = TenantFactory(suite=a)
    tenant_b = TenantFactory(suite=b, corp_id=tenant_a.corp_id)
    only_a, shared, only_b = _credential("a", a), _credential("ab", a, b), _credential("b", b)
    corp = tenant_a.corp_id
    made = {
        "only_a_open": _assertion(only_a, corp, "only_a_open"),
        "only_a_expired": _assertion(only_a, corp, "only_a_expired", expired=True),
        "shared_open": _assertion(shared, corp, "shared_open"),
        "shared_expired": _assertion(shared, corp, "shared_expired", expired=True),
        "only_b_open": _assertion(only_b, corp, "only_b_open"),
        "shared_redeemed_by_a": _assertion(shared, corp, "shared_redeemed_by_a", redeemed_by=a),
        "shared_redeemed_by_b": _assertion(shared, corp, "shared_redeemed_by_b", redeemed_by=b),
        "other_corp": _assertion(only_a, "dingothercorp", "other_corp"),
    }
    return tenant_a, tenant_b, made


def _left(made):
    return {name for name, row in made.items()
            if AdminSsoAssertion.objects.filter(pk=row.pk).exists()}


def _exported(deletion):
    with open(deletion.export_path, encoding="utf-8") as export:
        rows = json.load(export)["parts"]["identity"]["identity.AdminSsoAssertion"]
    return {row["name"] for row in rows}


def test_deleting_one_suites_data_keeps_what_another_authorized_suite_may_redeem():
    tenant_a, _tenant_b, made = _world()
    relieved = tenant_relieve(suite=tenant_a.suite, corp_id=tenant_a.corp_id)
    deletion = tenant_data_delete(tenant=relieved, operator="test")
    taken = {"only_a_open", "only_a_expired", "shared_redeemed_by_a"}
    assert _left(made) == set(made) - taken
    # The export holds exactly what was deleted.
    assert _exported(deletion) == taken
    assert deletion.counts["identity.AdminSsoAssertion"] == len(taken)


def test_once_the_corp_left_every_served_suite_the_shared_credentials_logins_go_too():
    tenant_a, tenant_b, made = _world()
    tenant_relieve(suite=tenant_b.suite, corp_id=tenant_b.corp_id)
    relieved = tenant_relieve(suite=tenant_a.suite, corp_id=tenant_a.corp_id)
    deletion = tenant_data_delete(tenant=relieved, operator="test")
    taken = {"only_a_open", "only_a_expired", "shared_open", "shared_expired",
             "shared_redeemed_by_a"}
    assert _left(made) == set(made) - taken
    assert _exported(deletion) == taken
