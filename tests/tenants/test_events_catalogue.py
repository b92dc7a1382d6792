"""Every EventType (HTTP push) and biz_type (SyncHTTP) of PROTOCOL 7.3/7.4: endpoint -> handler.

Each push goes through the signed endpoint, is stored under its kind, then processed; the tenant
ends in the state the event means. Events that call DingTalk (tmp_auth_code, change_auth, scope
updates) are covered against the emulator in test_events.py and test_lifecycle.py, and the
HTTP org_change (no names in it) at the end of this file.
"""

import json
import time

import pytest

from tenants.models import CallbackEvent, Tenant
from tenants.services.events import callback_event_process

from .conftest import authorized_tenant
from .factories import SuiteFactory, TenantFactory
from .pushes import push, sync_row, sync_rows

pytestmark = pytest.mark.django_db
MS = int(time.time() * 1000)
AUTHORIZED, STOPPED, RELIEVED = (Tenant.Status.AUTHORIZED, Tenant.Status.APP_STOPPED,
                                 Tenant.Status.RELIEVED)


def _http(event_type, **fields):
    def build(suite, corp_id):
        return {"EventType": event_type, "SuiteKey": suite.suite_key, "AuthCorpId": corp_id,
                "TimeStamp": MS, **fields}
    return build


def _http_corp(event_type):
    # PROTOCOL 7.3: corp-level events carry CorpId and no SuiteKey.
    return lambda suite, corp_id: {"EventType": event_type, "CorpId": corp_id, "TimeStamp": MS}


def _sync(biz_type, action, **data):
    def build(suite, corp_id):
        return sync_rows(sync_row(suite, biz_type, "biz1", {"syncAction": action, **data},
                                  corp_id=corp_id, modified=MS))
    return build


def _auth(action):
    data = {"auth_corp_info": {"corp_name": "Renamed Co", "full_corp_name": "Renamed Co Ltd."},
            "auth_info": {"agent": [{"agentid": 99, "appid": 7}]},
            "auth_scope": {"auth_org_scopes": {"authed_dept": [3], "authed_user": []}}}
    return _sync(4, action, **data)


CASES = {
    # id: (push style, payload, stored kind, tenant status before, after)
    "http-suite_relieve": ("http", _http("suite_relieve"), "suite_relieve", AUTHORIZED, RELIEVED),
    "http-app_stop": ("http", _http("org_micro_app_stop", AgentId=1, AppId=7), "app_stop",
                      AUTHORIZED, STOPPED),
    "http-app_restore": ("http", _http("org_micro_app_restore", AgentId=1, AppId=7),
                         "app_restore", STOPPED, AUTHORIZED),
    "http-app_remove": ("http", _http("org_micro_app_remove", AgentId=1, AppId=7),
                        "app_remove", AUTHORIZED, STOPPED),
    "http-org_remove": ("http", _http_corp("org_remove"), "corp_remove", AUTHORIZED, RELIEVED),
    "http-market_buy": ("http", _http("market_buy", orderId="o1", corpId="x"), "market_order",
                        AUTHORIZED, AUTHORIZED),
    "http-license_code": ("http", _http("check_suite_license_code", LicenseCode="L1"),
                          "check_suite_license_code", AUTHORIZED, AUTHORIZED),
    "http-user_add_org": ("http", _http_corp("user_add_org"), "contact_user", AUTHORIZED,
                          AUTHORIZED),
    "sync-4-auth": ("sync_http", _auth("org_suite_auth"), "org_suite_auth", RELIEVED,
                    AUTHORIZED),
    "sync-4-change": ("sync_http", _auth("org_suite_change"), "org_suite_change", AUTHORIZED,
                      AUTHORIZED),
    "sync-4-relieve": ("sync_http", _sync(4, "org_suite_relieve"), "org_suite_relieve",
                       AUTHORIZED, RELIEVED),
    "sync-7-stop": ("sync_http", _sync(7, "org_micro_app_stop", agentId=1), "app_stop",
                    AUTHORIZED, STOPPED),
    "sync-7-restore": ("sync_http", _sync(7, "org_micro_app_restore", agentId=1),
                       "app_restore", STOPPED, AUTHORIZED),
    "sync-7-remove": ("sync_http", _sync(7, "org_micro_app_remove", agentId=1), "app_remove",
                      AUTHORIZED, STOPPED),
    "sync-16-update": ("sync_http", _sync(16, "org_update", corp_name="Renamed Co"),
                       "corp_update", AUTHORIZED, AUTHORIZED),
    "sync-16-remove": ("sync_http", _sync(16, "org_remove"), "corp_remove", AUTHORIZED,
                       RELIEVED),
    "sync-17-order": ("sync_http", _sync(17, "market_order", orderId="o1"), "market_order",
                      AUTHORIZED, AUTHORIZED),
    "sync-13-user": ("sync_http", _sync(13, "user_add_org", userid="u1"), "contact_user",
                     AUTHORIZED, AUTHORIZED),
    "sync-14-dept": ("sync_http", _sync(14, "org_dept_create", id=5), "contact_dept",
                     AUTHORIZED, AUTHORIZED),
    "sync-15-role": ("sync_http", _sync(15, "org_role_add", role_id=3), "contact_role",
                     AUTHORIZED, AUTHORIZED),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_events_catalogue_push_is_stored_and_handled(client, no_app_receivers, case):
    style, payload, kind, before, after = case
    suite = SuiteFactory(http_push=style == "http")
    tenant = TenantFactory(suite=suite, status=before, corp_name="Old Co")
    assert push(client, suite, payload(suite, tenant.corp_id)).status_code == 200
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status) == (kind, CallbackEvent.Status.PENDING)
    processed = callback_event_process(event_id=event.pk)
    assert processed.status == CallbackEvent.Status.DONE, processed.last_error
    tenant.refresh_from_db()
    assert tenant.status == after
    if kind in ("org_suite_auth", "org_suite_change", "corp_update") and style == "sync_http":
        assert tenant.corp_name == "Renamed Co"
    if kind == "org_suite_change":
        assert (tenant.agent_id, tenant.auth_scopes["auth_org_scopes"]["authed_dept"]) == (99, [3])


def test_events_catalogue_ticket_row_is_applied_on_receipt(client):
    suite = SuiteFactory()
    row = sync_row(suite, 2, suite.suite_id, {"syncAction": "suite_ticket",
                                              "suiteTicket": "fresh-ticket"}, modified=MS)
    assert push(client, suite, sync_rows(row)).status_code == 200
    event = CallbackEvent.objects.get(suite=suite)
    assert (event.kind, event.status) == ("suite_ticket", CallbackEvent.Status.DONE)
    assert suite.tickets.get().ticket == "fresh-ticket"
    assert json.loads(event.payload["biz_data"])["suiteTicket"] == "fresh-ticket"


def test_events_catalogue_http_org_change_rereads_the_names(client, emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite, "http")
    emulator.corp_update(corp["corp_id"], name="Renamed at DingTalk")
    assert push(client, tenant.suite, _http_corp("org_change")(tenant.suite,
                                                              tenant.corp_id)).status_code == 200
    event = CallbackEvent.objects.get(suite=tenant.suite, kind="corp_update")
    processed = callback_event_process(event_id=event.pk)
    assert processed.status == CallbackEvent.Status.DONE, processed.last_error
    tenant.refresh_from_db()
    assert tenant.corp_name == "Renamed at DingTalk"


def test_events_catalogue_http_duplicate_and_out_of_order_pushes(client):
    """HTTP push: a re-push is stored once; pushes older than the relieve change nothing."""
    suite = SuiteFactory(http_push=True)
    tenant = TenantFactory(suite=suite, legacy=True)
    relieve = _http("suite_relieve", TimeStamp=MS + 10)(suite, tenant.corp_id)
    for _ in range(2):
        assert push(client, suite, relieve).status_code == 200
    event = CallbackEvent.objects.get(suite=suite)
    assert callback_event_process(event_id=event.pk).status == CallbackEvent.Status.DONE
    # No ticket was ever pushed: a late event that reached DingTalk would fail, not be ignored.
    for late in (_http("tmp_auth_code", AuthCode="old-code"), _http("change_auth")):
        assert push(client, suite, late(suite, tenant.corp_id)).status_code == 200
    late_events = list(CallbackEvent.objects.filter(suite=suite,
                                                    status=CallbackEvent.Status.PENDING))
    assert len(late_events) == 2
    for event in late_events:
        processed = callback_event_process(event_id=event.pk)
        assert processed.status == CallbackEvent.Status.IGNORED
        assert "superseded" in processed.last_error
    tenant.refresh_from_db()
    assert tenant.status == RELIEVED and tenant.permanent_code == ""
    assert CallbackEvent.objects.filter(suite=suite).count() == 3
