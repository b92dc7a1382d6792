"""Fixtures for the API tests: two suites' tenants, an internal app, their keys, and clients."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from tests.tenants.conftest import (  # noqa: F401
    authorized_tenant,
    celery_session_worker,
    celery_worker,
    dingtalk_at_emulator,
    make_app,
    make_suite,
    unique_corp_id,
)
from tests.tenants.factories import TenantFactory


def key_client(plaintext: str | None) -> APIClient:
    """A DRF test client presenting `plaintext` as its bearer key (none when None)."""
    client = APIClient()
    if plaintext is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@dataclass
class SuiteSide:
    suite: object
    tenants: list = field(default_factory=list)  # Tenant rows, authorized at the emulator
    corps: list = field(default_factory=list)  # the emulator's corp dicts, same order
    key: str = ""  # a key of the whole suite

    @property
    def client(self) -> APIClient:
        return key_client(self.key)


@pytest.fixture
def make_suite_side(emulator, make_suite):  # noqa: F811
    """`make_suite_side(tenants=2)` -> SuiteSide: a suite with tenants authorized at the
    emulator (5 users each) and a key of the suite."""
    from api.services.keys import api_key_create

    def make(tenants: int = 2, users: int = 5) -> SuiteSide:
        suite, _ = make_suite()
        side = SuiteSide(suite=suite)
        for _ in range(tenants):
            corp = emulator.create_corp(users=users, corp_id=unique_corp_id())
            auth = emulator.authorize(suite.suite_key, corp["corp_id"])
            side.tenants.append(TenantFactory(suite=suite, corp_id=corp["corp_id"],
                                              agent_id=auth["agent_id"],
                                              app_id=auth["app_id"]))
            side.corps.append(corp)
        side.key = api_key_create(name="test", suite=suite).plaintext
        return side

    return make


@pytest.fixture
def make_app_side(make_app):  # noqa: F811
    """`make_app_side(users=5)` -> (Tenant, corp dict, key): an internal app and its key."""
    from api.services.keys import api_key_create

    def make(users: int = 5):
        tenant, corp, _ = make_app(users=users)
        return tenant, corp, api_key_create(name="app", app=tenant).plaintext

    return make
