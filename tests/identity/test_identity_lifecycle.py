"""identity's part of a tenant's data lifecycle against the real stores: what the relieve and
the deletion leave behind of the tenant's jsapi_ticket (a credential, not the customer's data)."""

import threading
import time

import pytest
from django.db import connections

from core import clock
from dingtalk.tokens import Token
from identity.jsapi_tickets import jsapi_ticket_get, jsapi_ticket_key
from tenants.errors import TenantInactive
from tenants.models import AccessToken
from tenants.services.lifecycle import tenant_data_delete
from tenants.services.tenants import tenant_relieve
from tenants.token_store import token_store
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path / "exports")


def test_identity_deletion_drops_the_jsapi_ticket_everywhere(emulator, make_suite):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    cached = jsapi_ticket_get(tenant=tenant)
    key = jsapi_ticket_key(tenant)
    assert token_store().get(key) is not None
    relieved = tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    # A process that fetched just before the relieve stores its copy just after it.
    token_store().set(key, Token(value=cached.stored, expires_at=clock.time() + 7200))
    deletion = tenant_data_delete(tenant=relieved, operator="test")
    assert token_store().get(key) is None
    assert not AccessToken.objects.filter(key=key).exists()
    with open(deletion.export_path, encoding="utf-8") as export:
        assert cached.ticket not in export.read()


def test_identity_relieve_drops_the_jsapi_ticket(emulator, make_suite):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    jsapi_ticket_get(tenant=tenant)
    tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    assert token_store().get(jsapi_ticket_key(tenant)) is None


def _slow_fetch(emulator, tenant, corp) -> tuple[threading.Thread, dict]:
    """A ticket fetch in a thread whose DingTalk answer comes 3 s late; the dict gets its
    "ticket" or its "error"."""
    emulator.add_fault("get_jsapi_ticket", corp_id=corp["corp_id"], latency_ms=3000, count=1)
    outcome: dict = {}

    def fetch():
        try:
            outcome["ticket"] = jsapi_ticket_get(tenant=tenant)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test asserts
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=fetch)
    worker.start()
    return worker, outcome


def _fetch_in_flight(key, deadline_s=10.0):
    # The fetch holds the ticket's per-key lock from before its DingTalk call until it stored
    # the answer: a lock nobody else can take means the fetch is under way.
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with token_store().lock(key, timeout=0) as acquired:
            if not acquired:
                return True
        time.sleep(0.01)  # polling interval while waiting for a condition, not a sync point
    return False


def test_identity_a_ticket_fetched_before_the_relieve_and_stored_after_it_is_dropped(
        emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    key = jsapi_ticket_key(tenant)
    # DingTalk answers the ticket late: the relieve commits (and drops) while it is in flight.
    worker, outcome = _slow_fetch(emulator, tenant, corp)
    assert _fetch_in_flight(key)
    tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    assert worker.is_alive(), "the answer came before the relieve: the race was not played"
    worker.join(30)
    assert isinstance(outcome.get("error"), TenantInactive), outcome
    assert token_store().get(key) is None
    assert not AccessToken.objects.filter(key=key).exists()


def test_identity_a_ticket_fetched_across_a_relieve_and_reauthorization_is_fetched_again(
        emulator, make_suite):
    from dingtalk.isv import AuthAgent, AuthInfo
    from tenants.services.tenants import tenant_authorize

    tenant, corp = authorized_tenant(emulator, make_suite)
    key = jsapi_ticket_key(tenant)
    worker, outcome = _slow_fetch(emulator, tenant, corp)
    assert _fetch_in_flight(key)
    tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)
    clock.advance(1)  # the new authorization is visibly later than the first
    tenant_authorize(suite=tenant.suite, info=AuthInfo(
        corp_id=tenant.corp_id, corp_name="Back",
        agents=(AuthAgent(agent_id=tenant.agent_id, app_id=int(tenant.suite.app_id),
                          name="a"),),
        raw={"auth_corp_info": {"corpid": tenant.corp_id}}), scopes={"auth_org_scopes": {}})
    assert worker.is_alive(), "the answer came before the relieve: the race was not played"
    worker.join(30)
    ticket = outcome.get("ticket")
    assert ticket is not None, outcome
    # What is stored is the ticket of a fetch made under the new authorization.
    stored = token_store().get(key)
    assert stored is not None and stored.value == ticket.stored
    assert emulator.counters()["calls"].get("get_jsapi_ticket", 0) >= 2
