"""Defect 8: an HTTP-push authorization whose permanent code we never received is recovered
through DingTalk's own re-push (get_unactive_corp + reauth_corp), never lost as a FAILED row."""

import pytest

from tenants.models import CallbackEvent, Tenant
from tenants.selectors.suites import suite_ticket_current
from tenants.services.reauth import authorizations_recover, corp_reauthorize
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Status = CallbackEvent.Status


def _http_suite(make_suite, live_server, emulator):
    suite, remote = make_suite(push_style="http", with_ticket=False,
                               callback_url=live_server.url + "/callbacks/{suite_key}/")
    ticket = emulator.push_ticket(suite.suite_key)
    wait_for(lambda: suite_ticket_current(suite=suite) == ticket, what="the pushed ticket")
    return suite


def _tenant(suite, corp_id, status):
    return Tenant.objects.filter(suite=suite, corp_id=corp_id, status=status).first()


def test_reauth_a_spent_tmp_auth_code_becomes_a_tenant_through_a_repush(
        celery_worker, live_server, emulator, make_suite):
    suite = _http_suite(make_suite, live_server, emulator)
    corp = emulator.create_corp(users=2)
    # DingTalk's answer to a retried trade whose first answer was lost: the code is spent.
    emulator.add_fault("service/get_permanent_code", errcode=42008, count=1)
    emulator.authorize(suite.suite_key, corp["corp_id"])

    lost = wait_for(lambda: CallbackEvent.objects.filter(
        suite=suite, kind="tmp_auth_code", status=Status.AWAITING_REAUTH).first(),
        what="the lost authorization to wait for a re-push")
    assert not Tenant.objects.filter(suite=suite, corp_id=corp["corp_id"]).exists()

    assert authorizations_recover() == 1  # what the sweep runs every 30 s
    tenant = wait_for(lambda: _tenant(suite, corp["corp_id"], Tenant.Status.AUTHORIZED),
                      timeout=30, what="the re-pushed authorization to become a tenant")
    assert tenant.permanent_code and tenant.agent_id
    assert emulator.get_auth(suite.suite_key, corp["corp_id"])["activated"] is True
    lost.refresh_from_db()
    assert lost.status == Status.DONE and "reauth_corp" in lost.last_error
    # Nothing is left waiting: a second sweep asks DingTalk for nothing.
    assert authorizations_recover() == 0


def test_reauth_operator_action_for_one_corp(celery_worker, live_server, emulator, make_suite):
    suite = _http_suite(make_suite, live_server, emulator)
    corp = emulator.create_corp(users=2)
    emulator.add_fault("service/get_permanent_code", errcode=42008, count=1)
    emulator.authorize(suite.suite_key, corp["corp_id"])
    wait_for(lambda: CallbackEvent.objects.filter(
        suite=suite, status=Status.AWAITING_REAUTH).exists(), what="the lost authorization")

    assert corp_reauthorize(suite=suite, corp_id=corp["corp_id"]) is True
    wait_for(lambda: _tenant(suite, corp["corp_id"], Tenant.Status.AUTHORIZED), timeout=30,
             what="the tenant")
    # Activated now: DingTalk lists it no more, and the action says so.
    assert corp_reauthorize(suite=suite, corp_id=corp["corp_id"]) is False


def test_reauth_a_corp_dingtalk_does_not_list_is_dead_with_the_reason(emulator, make_suite):
    suite, _ = make_suite(push_style="http")
    event = CallbackEvent.objects.create(
        suite=suite, kind="tmp_auth_code", corp_id="dingnotstuck", dedupe_key="t:1",
        payload={"EventType": "tmp_auth_code"}, status=Status.AWAITING_REAUTH)
    assert authorizations_recover() == 0
    event.refresh_from_db()
    assert event.status == Status.DEAD and "no unactivated authorization" in event.last_error
