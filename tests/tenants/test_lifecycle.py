"""The whole tenant lifecycle over real HTTP: emulator pushes -> live endpoint -> Celery worker.

DingTalk is the emulator; its suite's callback URL is dingsuite's endpoint on pytest-django's
live_server; events are processed by a real `celery worker` subprocess. Both push styles.
"""

import pytest
import requests

from dingtalk.crypto import CallbackCrypto
from tenants.errors import TenantInactive
from tenants.models import AccessToken, CallbackEvent, Tenant
from tenants.selectors.suites import suite_ticket_current
from tenants.services.clients import client_for
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _tenant(suite, corp_id, **where):
    return Tenant.objects.select_related("suite").filter(suite=suite, corp_id=corp_id,
                                                         **where).first()


def _settled(suite):
    """No event of the suite is still waiting or running."""
    busy = (CallbackEvent.Status.PENDING, CallbackEvent.Status.PROCESSING,
            CallbackEvent.Status.FAILED)
    return not CallbackEvent.objects.filter(suite=suite, status__in=busy).exists()


def _suite_with_ticket(make_suite, live_server, emulator, push_style):
    suite, remote = make_suite(push_style=push_style, with_ticket=False,
                               callback_url=live_server.url + "/callbacks/{suite_key}/")
    ticket = emulator.push_ticket(suite.suite_key)
    wait_for(lambda: suite_ticket_current(suite=suite) == ticket, what="the pushed ticket")
    return suite, remote


@pytest.mark.parametrize("push_style", ["sync_http", "http"])
def test_lifecycle_authorize_use_change_stop_relieve(
    celery_worker, live_server, emulator, make_suite, push_style
):
    suite, _ = _suite_with_ticket(make_suite, live_server, emulator, push_style)
    corp = emulator.create_corp(users=20)
    corp_id, userid = corp["corp_id"], corp["userids"][0]

    auth = emulator.authorize(suite.suite_key, corp_id)
    tenant = wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.AUTHORIZED,
                                      agent_id=auth["agent_id"]), what="the tenant")
    assert tenant.corp_name == corp["name"]
    assert tenant.auth_user_id == auth["admin_userid"]
    assert tenant.auth_scopes["auth_org_scopes"]["authed_dept"] == [1]
    assert "permanent_code" not in tenant.auth_info
    if push_style == "http":
        assert tenant.permanent_code == auth["permanent_code"]
        assert emulator.get_auth(suite.suite_key, corp_id)["activated"] is True
    else:
        assert tenant.permanent_code == ""
    assert client_for(tenant).users.get(userid).userid == userid

    dept = next(d for d in corp["dept_ids"] if d != 1)
    emulator.change_auth(suite.suite_key, corp_id, authed_dept=[dept])
    wait_for(lambda: _tenant(suite, corp_id).auth_scopes.get("auth_org_scopes", {})
             .get("authed_dept") == [dept], what="the changed scopes")

    emulator.app_state(suite.suite_key, corp_id, "stop")
    wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.APP_STOPPED),
             what="the app stop")
    with pytest.raises(TenantInactive):
        client_for(_tenant(suite, corp_id))
    emulator.app_state(suite.suite_key, corp_id, "restore")
    wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.AUTHORIZED),
             what="the app restore")

    emulator.relieve(suite.suite_key, corp_id)
    relieved = wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.RELIEVED),
                        what="the relieve")
    assert relieved.permanent_code == ""
    assert not AccessToken.objects.filter(tenant=relieved).exists()
    with pytest.raises(TenantInactive):
        client_for(relieved)
    wait_for(lambda: _settled(suite), what="every event to finish")
    statuses = set(CallbackEvent.objects.filter(suite=suite).values_list("status", flat=True))
    assert statuses == {CallbackEvent.Status.DONE}


def _post_push(live_server, suite, remote, payload: str, *, timestamp="1700000000000"):
    crypto = CallbackCrypto(token=remote["token"], encoding_aes_key=remote["aes_key"],
                            key=suite.suite_key)
    encrypt = crypto.encrypt(payload)
    params = {"signature": crypto.signature(timestamp, "nonce1", encrypt),
              "timestamp": timestamp, "nonce": "nonce1"}
    response = requests.post(f"{live_server.url}/callbacks/{suite.suite_key}/", params=params,
                             json={"encrypt": encrypt}, timeout=10)
    assert response.status_code == 200
    return response


def _sync_row(suite, corp_id, biz_type, biz_id, biz_data, ms):
    import json

    return json.dumps({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [{
        "id": ms, "gmt_create": ms, "gmt_modified": ms, "biz_type": biz_type,
        "biz_id": biz_id, "subscribe_id": f"{suite.suite_id}_0", "corp_id": corp_id,
        "open_cursor": 0, "status": 0, "biz_data": json.dumps(biz_data)}]})


def test_lifecycle_duplicate_and_out_of_order_pushes(
    celery_worker, live_server, emulator, make_suite
):
    suite, remote = _suite_with_ticket(make_suite, live_server, emulator, "sync_http")
    corp = emulator.create_corp(users=5)
    corp_id = corp["corp_id"]
    auth = emulator.authorize(suite.suite_key, corp_id)
    wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.AUTHORIZED), what="tenant")
    auth_ms = int(wait_for(lambda: _tenant(suite, corp_id).last_event_at).timestamp() * 1000)

    relieve = _sync_row(suite, corp_id, 4, suite.suite_id, {"syncAction": "org_suite_relieve"},
                        auth_ms + 5000)
    _post_push(live_server, suite, remote, relieve)
    _post_push(live_server, suite, remote, relieve)  # DingTalk re-pushes: stored once
    wait_for(lambda: _tenant(suite, corp_id, status=Tenant.Status.RELIEVED), what="relieve")
    assert CallbackEvent.objects.filter(suite=suite, kind="org_suite_relieve").count() == 1

    # A late re-delivery of an older authorization must not bring the tenant back.
    late_auth = dict(auth["auth_info"], syncAction="org_suite_auth",
                     auth_scope={"auth_org_scopes": {"authed_dept": [1], "authed_user": []}})
    _post_push(live_server, suite, remote,
               _sync_row(suite, corp_id, 4, suite.suite_id, late_auth, auth_ms + 1000))
    late = wait_for(lambda: CallbackEvent.objects.filter(
        suite=suite, kind="org_suite_auth", status=CallbackEvent.Status.IGNORED).first(),
        what="the late auth to be ignored")
    assert "superseded" in late.last_error
    assert _tenant(suite, corp_id).status == Tenant.Status.RELIEVED
