"""Lifecycle signals: each transition other apps react to is announced once, after commit."""

import pytest
from django.db import transaction

from dingtalk.isv import AuthInfo
from tenants import signals
from tenants.services.tenants import (
    tenant_authorize,
    tenant_relieve,
    tenant_resume,
    tenant_set_app_state,
    tenant_suspend,
    tenant_update_corp,
)
from tests.tenants.factories import SuiteFactory

pytestmark = pytest.mark.django_db

ALL = ["tenant_authorized", "tenant_changed", "tenant_relieved", "tenant_app_stopped",
       "tenant_app_restored", "tenant_suspended", "tenant_resumed"]


@pytest.fixture
def heard():
    """[(signal name, corp id)] in the order they were sent."""
    received = []
    receivers = {}
    for name in ALL:
        def receiver(sender, tenant, _name=name, **kwargs):
            received.append((_name, tenant.corp_id))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield received
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def _info(corp_id: str) -> AuthInfo:
    return AuthInfo.from_body({"auth_corp_info": {"corpid": corp_id, "corp_name": "Acme"},
                               "auth_info": {"agent": [{"agentid": 1, "appid": 2}]}})


def test_signals_each_transition_is_announced_after_commit(heard,
                                                           django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    steps = [
        lambda: tenant_authorize(suite=suite, info=_info("dingS"), timestamp_ms=1),
        lambda: tenant_authorize(suite=suite, info=_info("dingS"), timestamp_ms=2),
        lambda: tenant_update_corp(suite=suite, corp_id="dingS", data={"corp_name": "B"},
                                   timestamp_ms=3),
        lambda: tenant_set_app_state(suite=suite, corp_id="dingS", action="stop",
                                     timestamp_ms=4),
        lambda: tenant_set_app_state(suite=suite, corp_id="dingS", action="restore",
                                     timestamp_ms=5),
        lambda: tenant_suspend(tenant=suite.tenants.get()),
        lambda: tenant_suspend(tenant=suite.tenants.get()),  # already held: no second signal
        lambda: tenant_resume(tenant=suite.tenants.get()),
        lambda: tenant_relieve(suite=suite, corp_id="dingS", timestamp_ms=6),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
    assert [name for name, _ in heard] == [
        "tenant_authorized", "tenant_changed", "tenant_changed", "tenant_app_stopped",
        "tenant_app_restored", "tenant_suspended", "tenant_resumed", "tenant_relieved"]
    assert {corp for _, corp in heard} == {"dingS"}


def test_signals_a_rolled_back_change_announces_nothing(heard,
                                                        django_capture_on_commit_callbacks):
    suite = SuiteFactory()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                tenant_authorize(suite=suite, info=_info("dingR"), timestamp_ms=1)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert heard == []
