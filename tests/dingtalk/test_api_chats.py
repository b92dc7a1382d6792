"""Group chats over the emulator: create, get, send, and the read list's cursor."""

import math

import pytest

from dingtalk import messages
from dingtalk.errors import MessageError, NotFound
from tests.dingtalk.test_client_support import world_fixture  # noqa: F401 (a fixture)


def test_api_chats_create_get_send_round_trip(world):
    members = world.userids(5)
    chat = world.client.chats.create("项目组", members[0], members, showHistoryType=1)
    assert chat.chat_id and chat.open_conversation_id
    info = world.client.chats.get(chat.chat_id)
    assert (info.name, info.owner, sorted(info.userids)) == ("项目组", members[0],
                                                             sorted(members))
    assert info.status == 1
    message_id = world.client.chats.send(chat.chat_id, messages.text("hello"))
    assert message_id


def test_api_chats_read_list_follows_the_cursor(emulator, world):
    members = world.userids(8)
    chat = world.client.chats.create("g", members[0], members)
    message_id = world.client.chats.send(chat.chat_id, messages.text("read me"))
    assert list(world.client.chats.read_list(message_id)) == []
    emulator.mark_chat_read(message_id, members[1:2])
    assert list(world.client.chats.read_list(message_id)) == members[1:2]
    # After the emulator's read delay everyone but the sender has read it.
    emulator.advance(120)
    before = world.calls("chat/getReadList")
    readers = list(world.client.chats.read_list(message_id, size=2))
    assert len(readers) == len(set(readers)) >= 6 and set(readers) <= set(members)
    assert world.calls("chat/getReadList") - before == math.ceil(len(readers) / 2)
    page = world.client.chats.read_list_page(message_id, cursor=0, size=2)
    assert page.userids == tuple(readers[:2]) and page.next_cursor == 2


def test_api_chats_bad_input_is_refused_before_sending(world):
    members = world.userids(3)
    with pytest.raises(MessageError, match="owner"):
        world.client.chats.create("g", "outsider", members)
    # The seed took a comma string; as characters it would make a chat of "u", "s", ...
    with pytest.raises(MessageError, match="list"):
        world.client.chats.create("g", members[0], ",".join(members))
    with pytest.raises(MessageError, match="name"):
        world.client.chats.create("x" * 21, members[0], members)
    with pytest.raises(MessageError):
        world.client.chats.send("chatx", {"msgtype": "text", "text": {}})
    assert world.calls("chat/create") == 0 and world.calls("chat/send") == 0


def test_api_chats_unknown_chat_is_an_api_error(world):
    with pytest.raises(NotFound):
        world.client.chats.get("chat-does-not-exist")
