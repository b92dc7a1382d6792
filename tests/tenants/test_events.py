"""Event processing service: each kind, idempotence, out-of-order pushes, failures and retries."""

import json
import time

import pytest
from django.db import DatabaseError
from django.db.models import F

from dingtalk.tokens import Token
from tenants.errors import TenantInactive
from tenants.models import AccessToken, CallbackEvent, Tenant
from tenants.services.clients import client_for
from tenants.services.events import callback_event_process, callback_event_reprocess, max_attempts
from tenants.services.tenants import tenant_relieve
from tenants.services.tokens import tenant_token_key
from tenants.signals import tenant_relieved
from tenants.token_store import token_store
from tests.conftest import advance_time
from tests.tenants.factories import (
    AccessTokenFactory,
    CallbackEventFactory,
    SuiteFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db
NOW_MS = int(time.time() * 1000)


def _row(suite, corp_id, biz_type, biz_data, ms, biz_id="x"):
    return {"id": ms, "gmt_create": ms, "gmt_modified": ms, "biz_type": biz_type,
            "biz_id": biz_id, "subscribe_id": f"{suite.suite_id}_0", "corp_id": corp_id,
            "open_cursor": 0, "status": 0, "biz_data": json.dumps(biz_data)}


def _auth_data(corp_id, *, name="Acme", agent_id=4242, action="org_suite_auth"):
    return {"syncAction": action, "permanent_code": "SECRET-PC", "ch_permanent_code": "X",
            "auth_corp_info": {"corpid": corp_id, "corp_name": name,
                               "full_corp_name": f"{name} Ltd."},
            "auth_user_info": {"userId": "boss"},
            "auth_info": {"agent": [{"agentid": agent_id, "appid": 77, "agent_name": "App"}]},
            "auth_scope": {"errcode": 0, "auth_org_scopes": {"authed_dept": [1],
                                                             "authed_user": []}}}


def _event(suite, payload, kind, corp_id="", **extra):
    return CallbackEventFactory(suite=suite, payload=payload, kind=kind, corp_id=corp_id,
                                **extra)


def _process(event):
    return callback_event_process(event_id=event.pk)


def test_events_sync_auth_creates_the_tenant_from_the_pushed_auth_info():
    suite = SuiteFactory()
    event = _event(suite, _row(suite, "dingA", 4, _auth_data("dingA"), NOW_MS),
                   "org_suite_auth", "dingA")
    assert _process(event).status == CallbackEvent.Status.DONE
    tenant = Tenant.objects.get(suite=suite, corp_id="dingA")
    assert (tenant.status, tenant.corp_name, tenant.agent_id, tenant.app_id) == (
        Tenant.Status.AUTHORIZED, "Acme", 4242, 77)
    assert tenant.auth_user_id == "boss"
    assert tenant.auth_scopes["auth_org_scopes"]["authed_dept"] == [1]
    assert "SECRET-PC" not in json.dumps(tenant.auth_info)
    assert tenant.last_event_at.timestamp() * 1000 == pytest.approx(NOW_MS, abs=1)


def test_events_a_processed_event_is_not_processed_again():
    suite = SuiteFactory()
    event = _event(suite, _row(suite, "dingB", 4, _auth_data("dingB"), NOW_MS),
                   "org_suite_auth", "dingB")
    _process(event)
    assert callback_event_process(event_id=event.pk) is None
    CallbackEvent.objects.filter(pk=event.pk).update(status=CallbackEvent.Status.PROCESSING)
    assert callback_event_process(event_id=event.pk) is None
    event.refresh_from_db()
    assert event.attempts == 1


def test_events_relieve_then_an_older_auth_keeps_the_tenant_relieved():
    suite = SuiteFactory()
    relieve = _event(suite, _row(suite, "dingC", 4, {"syncAction": "org_suite_relieve"},
                                 NOW_MS + 10), "org_suite_relieve", "dingC")
    old_auth = _event(suite, _row(suite, "dingC", 4, _auth_data("dingC"), NOW_MS),
                      "org_suite_auth", "dingC")
    assert _process(relieve).status == CallbackEvent.Status.DONE
    late = _process(old_auth)
    assert late.status == CallbackEvent.Status.IGNORED
    assert "superseded" in late.last_error
    assert Tenant.objects.get(suite=suite, corp_id="dingC").status == Tenant.Status.RELIEVED
    newer = _event(suite, _row(suite, "dingC", 4, _auth_data("dingC"), NOW_MS + 20),
                   "org_suite_auth", "dingC")
    assert _process(newer).status == CallbackEvent.Status.DONE
    assert Tenant.objects.get(suite=suite, corp_id="dingC").status == Tenant.Status.AUTHORIZED


def test_events_relieve_drops_tokens_and_notifies(django_capture_on_commit_callbacks):
    tenant = TenantFactory(legacy=True)
    AccessTokenFactory(tenant=tenant)
    store = token_store()
    key = tenant_token_key(tenant=tenant)
    store.set(key, Token(value="cached-token", expires_at=time.time() + 600))
    assert store.get(key) is not None
    received = []

    def listener(sender, tenant, **kwargs):
        received.append(tenant.pk)

    tenant_relieved.connect(listener)
    try:
        payload = {"EventType": "suite_relieve", "SuiteKey": tenant.suite.suite_key,
                   "AuthCorpId": tenant.corp_id, "TimeStamp": NOW_MS}
        with django_capture_on_commit_callbacks(execute=True):
            assert _process(_event(tenant.suite, payload, "suite_relieve",
                                   tenant.corp_id)).status == CallbackEvent.Status.DONE
    finally:
        tenant_relieved.disconnect(listener)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.RELIEVED and tenant.permanent_code == ""
    assert not AccessToken.objects.filter(tenant=tenant).exists()
    assert store.get(key) is None
    assert received == [tenant.pk]


def test_events_relieve_is_all_or_nothing(monkeypatch):
    """Status, permanent code and tokens change together, or not at all."""
    tenant = TenantFactory(legacy=True)
    AccessTokenFactory(tenant=tenant)

    def drop_then_fail(*, tenant):
        AccessToken.objects.filter(tenant=tenant).delete()
        raise DatabaseError("connection lost mid-relieve")

    monkeypatch.setattr("tenants.services.tenants.tenant_tokens_drop", drop_then_fail)
    with pytest.raises(DatabaseError):
        tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id, timestamp_ms=NOW_MS)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.AUTHORIZED and tenant.permanent_code
    assert AccessToken.objects.filter(tenant=tenant).exists()


def test_events_app_state_and_corp_update():
    tenant = TenantFactory()
    suite, corp = tenant.suite, tenant.corp_id

    def push(action, ms, biz_type=7, **data):
        return _process(_event(suite, _row(suite, corp, biz_type, {"syncAction": action, **data},
                                           ms), action, corp))

    push("org_micro_app_stop", NOW_MS, agentId=1)
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.APP_STOPPED
    push("org_micro_app_restore", NOW_MS + 1, agentId=1)
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.AUTHORIZED
    push("org_micro_app_remove", NOW_MS + 2, agentId=1)
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.APP_STOPPED
    push("org_update", NOW_MS + 3, biz_type=16, corp_name="Renamed", full_corp_name="R Ltd.")
    renamed = Tenant.objects.get(pk=tenant.pk)
    assert (renamed.corp_name, renamed.full_corp_name) == ("Renamed", "R Ltd.")


def test_events_restore_never_lifts_a_relieve():
    tenant = TenantFactory(status=Tenant.Status.RELIEVED)
    row = _row(tenant.suite, tenant.corp_id, 7, {"syncAction": "org_micro_app_restore"}, NOW_MS)
    _process(_event(tenant.suite, row, "app_restore", tenant.corp_id))
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.RELIEVED


@pytest.mark.parametrize("biz_type,data,kind", [
    (13, {"syncAction": "user_add_org", "userid": "u1"}, "contact_user"),
    (14, {"syncAction": "org_dept_create", "id": 5}, "contact_dept"),
    (17, {"syncAction": "market_order", "orderId": "o1"}, "market_order"),
])
def test_events_stored_rows_are_kept_as_done(no_app_receivers, biz_type, data, kind):
    suite = SuiteFactory()
    event = _process(_event(suite, _row(suite, "dingD", biz_type, data, NOW_MS), kind, "dingD"))
    assert event.status == CallbackEvent.Status.DONE
    assert event.payload["biz_type"] == biz_type


def test_events_unknown_kinds_are_ignored():
    suite = SuiteFactory()
    row = _row(suite, "dingE", 99, {"syncAction": "something_new"}, NOW_MS)
    event = _process(_event(suite, row, "unknown", "dingE"))
    assert event.status == CallbackEvent.Status.IGNORED
    assert "unknown" in event.last_error


def _tmp_auth_event(suite, corp_id, code):
    payload = {"EventType": "tmp_auth_code", "SuiteKey": suite.suite_key, "AuthCode": code,
               "AuthCorpId": corp_id, "TimeStamp": NOW_MS}
    return _event(suite, payload, "tmp_auth_code", corp_id)


def _due_now(event):
    CallbackEvent.objects.filter(pk=event.pk).update(next_attempt_at=F("received_at"))


def test_events_transport_errors_are_scheduled_for_retry_then_die(emulator, make_suite):
    suite, _ = make_suite(push_style="http")
    corp = emulator.create_corp(users=2)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    emulator.add_fault("service/get_permanent_code", http_status=500)
    event = _tmp_auth_event(suite, corp["corp_id"], auth["tmp_auth_code"])
    failed = _process(event)
    assert failed.status == CallbackEvent.Status.FAILED and "ServerError" in failed.last_error
    # The retry is on the row, not only in a Celery countdown: not due yet, so not claimed.
    assert failed.next_attempt_at > failed.claimed_at
    assert _process(event) is None
    advance_time(None, 3)  # past the first backoff (at most 2 s)
    assert _process(event).status == CallbackEvent.Status.FAILED
    CallbackEvent.objects.filter(pk=event.pk).update(attempts=max_attempts())
    _due_now(event)
    dead = _process(event)
    assert dead.status == CallbackEvent.Status.DEAD and "gave up" in dead.last_error
    assert dead.next_attempt_at is None


def test_events_refused_auth_code_waits_for_a_repush(emulator, make_suite):
    """A tmp_auth_code DingTalk refuses with no permanent code of ours is a lost
    authorization: the event waits for the sweep's re-authorization, it is not left FAILED."""
    suite, _ = make_suite(push_style="http")
    corp = emulator.create_corp(users=2)
    event = _process(_tmp_auth_event(suite, corp["corp_id"], "not-a-real-code"))
    assert event.status == CallbackEvent.Status.AWAITING_REAUTH
    assert "errcode" in event.last_error


def test_events_a_dingtalk_refusal_is_dead_with_its_reason(emulator, make_suite):
    suite, _ = make_suite()
    corp = emulator.create_corp(users=2)
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"])
    emulator.add_fault("service/get_auth_info", errcode=60011)
    payload = {"EventType": "change_auth", "SuiteKey": suite.suite_key,
               "AuthCorpId": tenant.corp_id, "TimeStamp": NOW_MS}
    event = _process(_event(suite, payload, "change_auth", tenant.corp_id))
    assert event.status == CallbackEvent.Status.DEAD
    assert "not retryable" in event.last_error and "60011" in event.last_error
    assert event.next_attempt_at is None and event.processed_at is not None


def test_events_http_auth_rerun_reuses_the_traded_permanent_code(emulator, make_suite):
    suite, _ = make_suite(push_style="http")
    corp = emulator.create_corp(users=2)
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    emulator.add_fault("service/activate_suite", http_status=502, count=3)
    event = _tmp_auth_event(suite, corp["corp_id"], auth["tmp_auth_code"])
    assert _process(event).status == CallbackEvent.Status.FAILED
    half_done = Tenant.objects.select_related("suite").get(suite=suite, corp_id=corp["corp_id"])
    assert half_done.permanent_code == auth["permanent_code"]
    # Not activated yet: no app may use it.
    assert half_done.status == Tenant.Status.AUTHORIZING
    with pytest.raises(TenantInactive):
        client_for(half_done)
    _due_now(event)
    assert _process(event).status == CallbackEvent.Status.DONE
    tenant = Tenant.objects.get(suite=suite, corp_id=corp["corp_id"])
    assert tenant.status == Tenant.Status.AUTHORIZED and tenant.agent_id == auth["agent_id"]
    assert emulator.get_auth(suite.suite_key, corp["corp_id"])["activated"] is True


def test_events_without_a_ticket_fail_with_a_retryable_error(emulator, make_suite):
    suite, _ = make_suite(push_style="http", with_ticket=False)
    event = _tmp_auth_event(suite, "dingF", "code")
    event = _process(event)
    assert event.status == CallbackEvent.Status.FAILED and event.next_attempt_at is not None
    assert "has not pushed" in event.last_error


def test_events_scope_update_rereads_scopes(emulator, make_suite):
    suite, _ = make_suite()
    corp = emulator.create_corp(users=5)
    emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(suite=suite, corp_id=corp["corp_id"])
    dept = next(d for d in corp["dept_ids"] if d != 1)
    emulator.change_auth(suite.suite_key, corp["corp_id"], authed_dept=[dept])
    row = _row(suite, tenant.corp_id, 7, {"syncAction": "org_micro_app_scope_update"}, NOW_MS)
    assert _process(_event(suite, row, "app_scope_update", tenant.corp_id)).status == "done"
    scopes = Tenant.objects.get(pk=tenant.pk).auth_scopes
    assert scopes["auth_org_scopes"]["authed_dept"] == [dept]


def test_events_reprocess_requeues_a_dead_event(django_capture_on_commit_callbacks):
    event = CallbackEventFactory(status=CallbackEvent.Status.DEAD, attempts=max_attempts(),
                                 last_error="ServerError: boom")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = callback_event_reprocess(event=event)
    assert (again.status, again.attempts) == (CallbackEvent.Status.PENDING, 0)
    assert len(callbacks) == 1


def test_events_a_fresh_event_runs_even_on_a_worker_whose_clock_is_behind():
    """The web server stamped next_attempt_at with its clock; a worker running a minute behind
    still takes a PENDING event at once (only retries wait for their time)."""
    from datetime import timedelta

    from core import clock

    suite = SuiteFactory()
    row = _row(suite, "dingSkew", 99, {"syncAction": "something_new"}, NOW_MS)
    event = _event(suite, row, "unknown", "dingSkew",
                   next_attempt_at=clock.now() + timedelta(minutes=1))
    assert _process(event).status == CallbackEvent.Status.IGNORED
