"""/api/v1/tenants/<corp_id>/chats/ against the emulator over HTTP: create, detail, send and
readers paged to the end for an internal app; a suite's tenant refused (409) before any call;
bad input 400s naming the field; DingTalk's refusals mapped by class; an inactive app 409."""

from urllib.parse import urlencode

import pytest

from tenants.models import Tenant
from tests.api.conftest import key_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXT = {"msgtype": "text", "text": {"content": "hello"}}


def _base(tenant) -> str:
    return f"/api/v1/tenants/{tenant.corp_id}/"


@pytest.fixture
def app(emulator, make_app_side):
    """(tenant, corp, client) of an internal app with 8 users."""
    tenant, corp, key = make_app_side(users=8)
    return tenant, corp, key_client(key)


def _create(client, tenant, members, **extra):
    body = {"name": "Ops", "owner": members[0], "useridlist": members, **extra}
    return client.post(f"{_base(tenant)}chats/", body, format="json")


def test_chats_create_detail_send_and_readers_to_the_end(emulator, app):
    tenant, corp, client = app
    members = corp["userids"][:6]
    created = _create(client, tenant, members, options={"searchable": 1})
    assert created.status_code == 201, created.content[:300]
    chat = created.json()
    assert chat["chat_id"] and chat["owner"] == members[0] and chat["userids"] == members
    detail = client.get(f"{_base(tenant)}chats/{chat['chat_id']}/").json()
    assert (detail["chat_id"], detail["name"], detail["owner"]) == (chat["chat_id"], "Ops",
                                                                     members[0])
    assert sorted(detail["userids"]) == sorted(members)
    sent = client.post(f"{_base(tenant)}chats/{chat['chat_id']}/messages/", {"msg": TEXT},
                       format="json")
    assert sent.status_code == 201, sent.content[:300]
    message_id = sent.json()["message_id"]
    readers = members[1:5]
    emulator.mark_chat_read(message_id, readers)
    assert "/" in message_id  # DingTalk's are base64-like: hence a query parameter
    seen, pages = [], 0
    url = f"{_base(tenant)}chat-message-readers/?{urlencode({'message_id': message_id})}"
    url += "&page_size=1"
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "previous", "results"} and len(body["results"]) <= 1
        seen += [r["userid"] for r in body["results"]]
        url, pages = body["next"], pages + 1
        assert pages < 20
    assert sorted(seen) == sorted(readers) and pages >= len(readers)


def test_chats_readers_of_an_unread_message_is_an_empty_page(emulator, app):
    tenant, corp, client = app
    chat = _create(client, tenant, corp["userids"][:3]).json()
    message_id = client.post(f"{_base(tenant)}chats/{chat['chat_id']}/messages/",
                             {"msg": TEXT}, format="json").json()["message_id"]
    body = client.get(f"{_base(tenant)}chat-message-readers/",
                      {"message_id": message_id}).json()
    assert body == {"next": None, "previous": None, "results": []}


def test_chats_a_suite_tenant_is_409_before_any_call(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    tenant, corp = side.tenants[0], side.corps[0]
    before = emulator.counters()["calls"]
    calls = [
        lambda: _create(side.client, tenant, corp["userids"][:2]),
        lambda: side.client.get(f"{_base(tenant)}chats/chat123/"),
        lambda: side.client.post(f"{_base(tenant)}chats/chat123/messages/", {"msg": TEXT},
                                 format="json"),
        lambda: side.client.get(f"{_base(tenant)}chat-message-readers/?message_id=msg123"),
    ]
    for call in calls:
        response = call()
        assert response.status_code == 409, response.content[:300]
        assert response.json()["error"]["code"] == "chats_internal_apps_only"
    assert emulator.counters()["calls"] == before


@pytest.mark.parametrize(("change", "field"), [
    ({"owner": "someone-else"}, "owner"),
    ({"useridlist": "a,b"}, "useridlist"),
    ({"useridlist": []}, "useridlist"),
    ({"useridlist": [f"u{i}" for i in range(41)], "owner": "u0"}, "useridlist"),
    ({"useridlist": ["a,b"], "owner": "a,b"}, "useridlist"),
    ({"name": ""}, "name"),
    ({"name": "n" * 21}, "name"),
    ({"name": None}, "name"),
    ({"options": {"icon": 1}}, "options"),
    ({"options": {"searchable": 2}}, "options"),
    ({"options": ["searchable"]}, "options"),
    ({"options": {"searchable": "1"}}, "options"),  # text is not a JSON integer
    ({"options": {"searchable": True}}, "options"),
    ({"name": 123}, "name"),  # nor is a number text
    ({"useridlist": [1, 2], "owner": "1"}, "useridlist"),
])
def test_chats_create_bad_input_is_400_naming_the_field(emulator, app, change, field):
    tenant, corp, client = app
    body = {"name": "Ops", "owner": corp["userids"][0], "useridlist": corp["userids"][:3],
            **change}
    before = emulator.counters()["calls"]
    response = client.post(f"{_base(tenant)}chats/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["error"]["details"]
    assert emulator.counters()["calls"] == before


@pytest.mark.parametrize(("body", "code"), [
    ({}, "invalid"),
    ({"msg": "just text"}, "invalid"),
    ({"msg": [TEXT]}, "invalid"),
    ({"msg": {"msgtype": "nonsense"}}, "message_invalid"),
    ({"msg": {"msgtype": "text", "text": {"content": "x" * 3000}}}, "message_invalid"),
    ({"msg": {"msgtype": "text", "text": {"content": "a\x00b"}}}, "parse_error"),
])
def test_chats_send_bad_message_is_400(emulator, app, body, code):
    tenant, corp, client = app
    chat = _create(client, tenant, corp["userids"][:2]).json()
    before = emulator.counters()["calls"]
    response = client.post(f"{_base(tenant)}chats/{chat['chat_id']}/messages/", body,
                           format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == code
    assert "\x00" not in response.content.decode()
    assert emulator.counters()["calls"] == before


@pytest.mark.parametrize(("path", "field"), [
    (f"chats/{'c' * 129}/", "chat_id"),
    ("chats/%00/", "chat_id"),
    ("chats/%20/", "chat_id"),
    ("chat-message-readers/?message_id=%00", "message_id"),
    ("chat-message-readers/", "message_id"),
    (f"chat-message-readers/?message_id={'m' * 129}", "message_id"),
    ("chat-message-readers/?message_id=m1&page_size=0", "page_size"),
    ("chat-message-readers/?message_id=m1&page_size=x", "page_size"),
])
def test_chats_bad_ids_and_pages_are_400(emulator, app, path, field):
    tenant, _, client = app
    response = client.get(_base(tenant) + path)
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_chats_dingtalks_refusals_map_by_class(emulator, app):
    tenant, corp, client = app
    unknown = client.get(f"{_base(tenant)}chats/chat-that-is-not/")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"]["errcode"] == 40016
    send = client.post(f"{_base(tenant)}chats/chat-that-is-not/messages/", {"msg": TEXT},
                       format="json")
    assert send.status_code == 404 and send.json()["error"]["details"]["errcode"] == 34001
    emulator.add_fault("chat/create", corp_id=corp["corp_id"], errcode=-1, count=1)
    busy = _create(client, tenant, corp["userids"][:2])
    assert busy.status_code == 502 and busy.json()["error"]["code"] == "dingtalk_unavailable"
    assert emulator.faults()[0]["fired"] == 1  # a create is never retried blindly
    emulator.add_fault("chat/getReadList", corp_id=corp["corp_id"], errcode=60020)
    denied = client.get(f"{_base(tenant)}chat-message-readers/?message_id=m1")
    assert denied.status_code == 403
    details = denied.json()["error"]["details"]
    assert details["errcode"] == 60020 and details["errmsg"]


def test_chats_a_suspended_app_is_409(emulator, app):
    tenant, corp, client = app
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)
    before = emulator.counters()["calls"]
    response = _create(client, tenant, corp["userids"][:2])
    assert response.status_code == 409 and response.json()["error"]["code"] == "tenant_inactive"
    assert emulator.counters()["calls"] == before
