"""Group chats for internal-app tenants, against the emulator over HTTP; suites refused."""

import pytest

from dingtalk.errors import ApiError
from messaging.errors import ChatsNotForSuites, MessageInvalid
from messaging.services.chats import chat_create, chat_get, chat_read_list, chat_send
from tests.tenants.conftest import authorized_tenant

pytestmark = pytest.mark.django_db


def test_chats_create_get_send_and_read_list(emulator, make_app):
    tenant, corp, _ = make_app(users=6)
    members = corp["userids"][:4]
    chat = chat_create(tenant=tenant, name="Ops", owner=members[0], userids=members,
                       options={"searchable": 1})
    assert chat.chat_id
    info = chat_get(tenant=tenant, chat_id=chat.chat_id)
    assert (info.name, info.owner, sorted(info.userids)) == ("Ops", members[0], sorted(members))
    message_id = chat_send(tenant=tenant, chat_id=chat.chat_id,
                           msg={"msgtype": "text", "text": {"content": "hello"}})
    emulator.mark_chat_read(message_id, members[1:3])
    page = chat_read_list(tenant=tenant, message_id=message_id)
    assert sorted(page.userids) == sorted(members[1:3])


def test_chats_are_refused_for_suite_tenants_before_any_call(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    before = emulator.counters()
    with pytest.raises(ChatsNotForSuites) as info:
        chat_create(tenant=tenant, name="x", owner=corp["userids"][0],
                    userids=corp["userids"][:2])
    assert info.value.http_status == 409 and info.value.code == "chats_internal_apps_only"
    for call in (lambda: chat_get(tenant=tenant, chat_id="chat1"),
                 lambda: chat_send(tenant=tenant, chat_id="chat1", msg="hi"),
                 lambda: chat_read_list(tenant=tenant, message_id="m1")):
        with pytest.raises(ChatsNotForSuites):
            call()
    assert emulator.counters()["calls"] == before["calls"]  # DingTalk never heard of it


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"name": "", "owner": "u0"}, "name"),
    ({"name": "x" * 21, "owner": "u0"}, "name"),
    ({"name": "ok", "owner": "not-a-member"}, "owner"),
    ({"name": "ok", "owner": "u0", "options": {"icon": "x"}}, "unknown"),
    ({"name": "ok", "owner": "u0", "options": {"searchable": 2}}, "not_0_or_1"),
])
def test_chats_bad_input_is_refused_before_any_call(emulator, make_app, kwargs, why):
    tenant, corp, _ = make_app(users=3)
    members = corp["userids"][:2]
    owner = members[0] if kwargs["owner"] == "u0" else kwargs["owner"]
    before = emulator.counters()["calls"]
    with pytest.raises(MessageInvalid) as info:
        chat_create(tenant=tenant, name=kwargs["name"], owner=owner, userids=members,
                    options=kwargs.get("options"))
    assert why in (info.value.message + str(info.value.extra))
    assert emulator.counters()["calls"] == before


def test_chats_bad_message_and_paging_are_refused(emulator, make_app):
    tenant, _, _ = make_app(users=2)
    with pytest.raises(MessageInvalid):
        chat_send(tenant=tenant, chat_id="chat1", msg={"msgtype": "text", "text": {}})
    with pytest.raises(MessageInvalid):
        chat_read_list(tenant=tenant, message_id="m", size=101)


def test_chats_dingtalk_refusals_surface_as_dingtalk_errors(emulator, make_app):
    tenant, _, _ = make_app(users=2)
    with pytest.raises(ApiError):
        chat_get(tenant=tenant, chat_id="chatdoesnotexist")
