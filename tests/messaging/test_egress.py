"""The egress gate (messaging/limiter/egress.py): every DingTalk request of any kind takes the
shared egress-IP budget in the transport; over it, the call never leaves (EgressLimited), and a
send held back by it waits without counting as a try."""

import secrets

import pytest

from dingtalk.errors import EgressLimited
from messaging.limiter import egress_rule, usage
from messaging.models import NotificationBatch
from messaging.services.polling import batch_poll
from messaging.services.sending import batch_send
from tenants.services.clients import client_for
from tests.conftest import advance_time
from tests.messaging.notification_support import create_and_plan, text

pytestmark = pytest.mark.django_db

_LIST = "department/list_ids"


@pytest.fixture(autouse=True)
def _own_egress_budget(settings):
    """A budget of this test's own: the clock goes back to real time between tests, and
    calls a previous test made on its advanced clock would still count in a shared one."""
    settings.MESSAGING_EGRESS_NAME = f"test-{secrets.token_hex(6)}"


def _calls(emulator, endpoint: str) -> int:
    return emulator.counters()["calls"].get(endpoint, 0)


def test_the_egress_gate_keeps_calls_over_the_budget_from_leaving(emulator, make_app,
                                                                    settings):
    tenant, _, _ = make_app(users=3)
    client = client_for(tenant)
    client.access_token()  # the token fetch is a call too; take it before the budget shrinks
    settings.MESSAGING_EGRESS_NAME = f"test-{secrets.token_hex(6)}"  # a fresh, empty budget
    settings.MESSAGING_LIMIT_EGRESS_CALLS = 3
    before = _calls(emulator, _LIST)
    for _ in range(3):
        client.departments.list_ids(1)
    with pytest.raises(EgressLimited) as refused:
        client.departments.list_ids(1)
    assert 0 < refused.value.retry_after <= 20
    assert _calls(emulator, _LIST) == before + 3  # the fourth never reached DingTalk
    advance_time(emulator, 21)
    client.departments.list_ids(1)
    assert _calls(emulator, _LIST) == before + 4


def test_the_gate_is_off_when_the_setting_says_so(emulator, make_app, settings):
    tenant, _, _ = make_app(users=3)
    client = client_for(tenant)
    client.access_token()
    settings.MESSAGING_EGRESS_GATE = False
    settings.MESSAGING_LIMIT_EGRESS_CALLS = 1
    for _ in range(3):
        client.departments.list_ids(1)


def test_a_send_the_gate_holds_back_waits_without_counting_a_try(emulator, make_app,
                                                                 settings):
    tenant, _, _ = make_app(users=5)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    client_for(tenant).access_token()
    settings.MESSAGING_EGRESS_NAME = f"test-{secrets.token_hex(6)}"
    settings.MESSAGING_LIMIT_EGRESS_CALLS = 1
    client_for(tenant).departments.list_ids(1)  # the budget is now spent
    (batch,) = NotificationBatch.objects.filter(notification=n)
    batch = batch_send(batch_id=batch.pk)
    assert batch.status == NotificationBatch.Status.PENDING and batch.attempts == 0
    # (The send takes the egress call in its own acquire; its request then passes the gate.)
    assert "limiter: egress:" in batch.last_error and batch.task_id is None
    assert _calls(emulator, "topapi/message/corpconversation/asyncsend_v2") == 0


def test_a_send_and_its_poll_take_the_egress_budget_once_each(emulator, make_app, settings):
    """Both take the egress call in their own acquire; the transport's gate then lets their
    request through without counting it a second time."""
    tenant, _, _ = make_app(users=5)
    n = create_and_plan(tenant, to_all_user=True, msg=text())
    client_for(tenant).access_token()
    settings.MESSAGING_EGRESS_NAME = f"test-{secrets.token_hex(6)}"
    (batch,) = NotificationBatch.objects.filter(notification=n)
    assert batch_send(batch_id=batch.pk).status == NotificationBatch.Status.SENT
    advance_time(emulator, 2)
    assert batch_poll(batch_id=batch.pk).status == NotificationBatch.Status.SENT
    assert _calls(emulator, "topapi/message/corpconversation/getsendresult") == 1
    (egress,) = usage([egress_rule()])
    assert egress.used == 2  # asyncsend_v2 and getsendresult, once each
    client_for(tenant).departments.list_ids(1)  # any other request still takes the gate
    assert usage([egress_rule()])[0].used == 3
