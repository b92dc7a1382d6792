"""An admin-console SSO world for the identity and API tests: an ISV corp with its SSO secret
at the emulator and in dingsuite, a suite it serves, and an authorized customer corp."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from identity.models import AdminSsoCredential
from tests.tenants.conftest import unique_corp_id
from tests.tenants.factories import TenantFactory

LANDING = "https://product.example/admin/sso?lang=zh"


@dataclass
class AdminSsoWorld:
    credential: AdminSsoCredential
    sso_secret: str
    suite: object
    tenant: object
    corp: dict
    admin: dict  # the emulator's user dict of an admin of `corp`

    def code(self, emulator, corp: dict | None = None) -> str:
        corp = corp or self.corp
        admin = self.admin if corp is self.corp else first_admin(emulator, corp)
        return emulator.sso_admin_code(corp["corp_id"], admin["userid"])


def first_admin(emulator, corp: dict) -> dict:
    return next(u for u in emulator.get_corp(corp["corp_id"])["users"] if u["is_admin"])


def make_admin_sso_world(emulator, make_suite, *, landing_url: str = LANDING) -> AdminSsoWorld:
    # A fresh ISV corp id per test: the sso token cached in Redis outlives the emulator's reset.
    isv = emulator.isv_set(f"dingisv{uuid.uuid4().hex[:16]}")
    suite, _ = make_suite()
    corp = emulator.create_corp(users=5, corp_id=unique_corp_id())
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"], agent_id=auth["agent_id"],
                           app_id=auth["app_id"])
    credential = AdminSsoCredential.objects.create(
        corp_id=isv["corp_id"], name="ISV", sso_secret=isv["sso_secret"],
        landing_url=landing_url)
    credential.suites.add(suite)
    return AdminSsoWorld(credential=credential, sso_secret=isv["sso_secret"], suite=suite,
                         tenant=tenant, corp=corp, admin=first_admin(emulator, corp))
