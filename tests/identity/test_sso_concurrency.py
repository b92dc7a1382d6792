"""Concurrent first logins of one user (each with its own code) make one row, no error."""

import threading

import pytest
from django.db import connection

from identity.models import TenantUser
from identity.services.sso import sso_user_exchange
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_first_logins_make_one_row(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    userid = corp["userids"][0]
    codes = [emulator.sso_code(corp["corp_id"], userid) for _ in range(8)]
    barrier = threading.Barrier(len(codes))
    results, errors = [], []

    def login(code: str) -> None:
        barrier.wait()
        try:
            results.append(sso_user_exchange(tenant=tenant, code=code).pk)
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=login, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == len(codes) and len(set(results)) == 1
    assert TenantUser.objects.filter(tenant=tenant, userid=userid).count() == 1
