"""chat/create, get, update, send, getReadList: internal apps only."""

import json

import pytest
from emulator_helpers import get, internal_app, isv_app, post


@pytest.fixture
def chat(emulator):
    corp, _, token = internal_app(emulator, users=30)
    members = corp["userids"][:5]
    body = post(emulator, "chat/create", token, {"name": "项目群", "owner": members[0],
                                                 "useridlist": members})
    assert body["errcode"] == 0 and body["conversationTag"] == 2
    assert body["chatid"].startswith("chat") and body["openConversationId"]
    return corp, token, body["chatid"], members


def test_chat_get(emulator, chat):
    _, token, chatid, members = chat
    info = get(emulator, "chat/get", token, chatid=chatid)["chat_info"]
    assert info["name"] == "项目群" and info["owner"] == members[0]
    assert info["useridlist"] == members and info["status"] == 1
    assert get(emulator, "chat/get", token)["errcode"] == 49000
    assert get(emulator, "chat/get", token, chatid="chatnope")["errcode"] == 40016


def test_chat_of_another_corp_40016(emulator, chat):
    _, _, chatid, _ = chat
    _, _, other_token = internal_app(emulator, users=3)
    assert get(emulator, "chat/get", other_token, chatid=chatid)["errcode"] == 40016


def test_chat_create_errors(emulator):
    corp, _, token = internal_app(emulator, users=50)
    users = corp["userids"]
    def create(**body):
        base = {"name": "群", "owner": users[0], "useridlist": users[:3]}
        return post(emulator, "chat/create", token, {**base, **body})["errcode"]
    assert create(name="") == 40035
    assert create(name="x" * 21) == 49015
    assert create(owner="") == 49013
    assert create(useridlist=[]) == 49010
    assert create(useridlist=users[:41], owner=users[0]) == 49011
    assert create(useridlist=[users[0], "ghost"]) == 40031
    assert create(owner=users[10]) == 40035  # the owner must be a member
    assert create(useridlist=",".join(users[:3])) == 0  # the seed's comma string


def test_chat_update(emulator, chat):
    corp, token, chatid, members = chat
    extra = corp["userids"][10]
    body = post(emulator, "chat/update", token, {"chatid": chatid, "name": "新名字",
                                                 "add_useridlist": [extra],
                                                 "del_useridlist": [members[4]]})
    assert body == {"errcode": 0, "errmsg": "ok"}
    info = get(emulator, "chat/get", token, chatid=chatid)["chat_info"]
    assert info["name"] == "新名字" and extra in info["useridlist"]
    assert members[4] not in info["useridlist"]
    overlap = post(emulator, "chat/update", token, {"chatid": chatid, "add_useridlist": [extra],
                                                    "del_useridlist": [extra]})
    assert overlap["errcode"] == 49004


def test_chat_send_msg_object_or_string(emulator, chat):
    _, token, chatid, _ = chat
    msg = {"msgtype": "text", "text": {"content": "hi"}}
    first = post(emulator, "chat/send", token, {"chatid": chatid, "msg": msg})
    second = post(emulator, "chat/send", token, {"chatid": chatid, "msg": json.dumps(msg)})
    assert first["messageId"] and second["messageId"] and first["messageId"] != second["messageId"]


def test_chat_send_2016_flat_body(emulator, chat):
    """msgtype and its object beside chatid, as 007gzs-sdk (and the 2016 docs) send them."""
    _, token, chatid, _ = chat
    ok = post(emulator, "chat/send", token, {"chatid": chatid, "msgtype": "text",
                                             "text": {"content": "hi"}})
    assert ok["errcode"] == 0 and ok["messageId"]
    assert post(emulator, "chat/send", token, {"chatid": chatid, "msgtype": "text",
                                               "text": {}})["errcode"] == 34014


def test_chat_send_errors(emulator, chat):
    _, token, chatid, _ = chat
    def send(msg, cid=chatid):
        return post(emulator, "chat/send", token, {"chatid": cid, "msg": msg})["errcode"]
    assert send({"msgtype": "text", "text": {"content": "x"}}, cid="chatnope") == 34001
    assert send({"msgtype": "bogus", "bogus": {}}) == 34004
    assert send({"msgtype": "text", "text": {}}) == 34014
    assert send("{not json") == 34014
    assert send({"msgtype": "text", "text": {"content": "长" * 1000}}) == 34016
    assert post(emulator, "chat/send", token, {"msg": {"msgtype": "text", "text": {
        "content": "x"}}})["errcode"] == 49000


def test_get_read_list_cursor_and_omissions(emulator, chat):
    _, token, chatid, members = chat
    emulator.set_config(chat_read_after_s=None)
    message_id = post(emulator, "chat/send", token, {"chatid": chatid, "msg": {
        "msgtype": "text", "text": {"content": "hi"}}})["messageId"]
    empty = get(emulator, "chat/getReadList", token, messageId=message_id, cursor=0, size=10)
    assert empty == {"errcode": 0, "errmsg": "ok"}  # no readUserIdList, no next_cursor
    emulator.mark_chat_read(message_id, members[1:4])
    page1 = get(emulator, "chat/getReadList", token, messageId=message_id, cursor=0, size=2)
    assert page1["readUserIdList"] == members[1:3] and page1["next_cursor"] == 2
    page2 = get(emulator, "chat/getReadList", token, messageId=message_id,
                cursor=page1["next_cursor"], size=2)
    assert page2["readUserIdList"] == members[3:4] and "next_cursor" not in page2


def test_members_read_after_configured_delay(emulator, chat):
    _, token, chatid, members = chat
    message_id = post(emulator, "chat/send", token, {"chatid": chatid, "msg": {
        "msgtype": "text", "text": {"content": "hi"}}})["messageId"]
    emulator.advance(61)
    body = get(emulator, "chat/getReadList", token, messageId=message_id, cursor=0, size=100)
    assert body["readUserIdList"] == members[1:]


def test_get_read_list_errors(emulator, chat):
    _, token, chatid, _ = chat
    message_id = post(emulator, "chat/send", token, {"chatid": chatid, "msg": {
        "msgtype": "text", "text": {"content": "hi"}}})["messageId"]
    def read(**params):
        base = {"messageId": message_id, "cursor": 0, "size": 10}
        return get(emulator, "chat/getReadList", token, **{**base, **params})["errcode"]
    assert read(size=101) == 40069
    assert read(cursor=-1) == 40068
    assert read(messageId="") == 40035
    assert read(messageId="msgunknown") == 40035


def test_isv_tokens_get_no_chat_apis(emulator):
    corp, _, _, token = isv_app(emulator)
    body = post(emulator, "chat/create", token, {"name": "群", "owner": corp["userids"][0],
                                                 "useridlist": corp["userids"][:2]})
    assert body["errcode"] == 60011
    assert get(emulator, "chat/get", token, chatid="chatx")["errcode"] == 60011
    emulator.set_config(isv_chat_errcode=43007)
    assert get(emulator, "chat/get", token, chatid="chatx")["errcode"] == 43007
