"""Group chats (chat/*): legacy, internal apps only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dingtalk import messages
from dingtalk.api._base import Resource, required
from dingtalk.api.models import Chat, ReadListPage

# PROTOCOL 5: name 1-20 characters, at most 40 members per create call, pages of at most 100.
MAX_CHAT_NAME = 20
MAX_CREATE_MEMBERS = 40
MAX_PAGE_SIZE = 100


class Chats(Resource):
    """`client.chats`. create and send are not idempotent: never retried blindly."""

    def create(self, name: str, owner: str, userids: Sequence[str],
               **options: Any) -> Chat:
        """Create a group chat; the owner must be one of the members.

        Extra options go as-is (showHistoryType, searchable, validationType,
        mentionAllAuthority, managementType, chatBannedType).
        Doc: create-group-session (chat/create).
        """
        members = messages.userid_list(userids)
        if not name or len(name) > MAX_CHAT_NAME:
            raise messages.MessageError(f"chat name must be 1-{MAX_CHAT_NAME} characters")
        if not members or len(members) > MAX_CREATE_MEMBERS:
            raise messages.MessageError(f"a chat starts with 1-{MAX_CREATE_MEMBERS} members")
        if owner not in members:
            raise messages.MessageError("the owner must be one of the members")
        body = {"name": name, "owner": owner, "useridlist": members, **options}
        answer = self._post("chat/create", body)
        return Chat(chat_id=str(required(answer, "chatid", "chat/create")), name=name, owner=owner,
                    userids=tuple(members),
                    open_conversation_id=answer.get("openConversationId"),
                    conversation_tag=answer.get("conversationTag"), raw=dict(answer))

    def get(self, chat_id: str) -> Chat:
        """A group chat's details.

        Doc: obtain-a-group-session (chat/get).
        """
        body = self._get("chat/get", chatid=chat_id)
        return Chat.from_info(body.get("chat_info") or {})

    def send(self, chat_id: str, msg: messages.Message | Mapping[str, Any] | str) -> str:
        """Send a message to a group chat; returns the messageId.

        Doc: send-group-messages (chat/send).
        """
        message = messages.from_dict(msg)
        body = self._post("chat/send", {"chatid": chat_id, "msg": message.to_dict()})
        return str(required(body, "messageId", "chat/send"))

    def read_list_page(self, message_id: str, *, cursor: int = 0,
                       size: int = MAX_PAGE_SIZE) -> ReadListPage:
        """One page of the members who read a chat message.

        Doc: queries-the-list-of-people-who-have-read-a-group-message (chat/getReadList).
        """
        body = self._get("chat/getReadList", messageId=message_id, cursor=cursor, size=size)
        next_cursor = body.get("next_cursor")
        return ReadListPage(userids=tuple(str(u) for u in body.get("readUserIdList", ())),
                            next_cursor=None if next_cursor is None else int(next_cursor))

    def read_list(self, message_id: str, *, size: int = MAX_PAGE_SIZE) -> Iterator[str]:
        """Every member who read a chat message, following next_cursor (chat/getReadList)."""
        cursor = 0
        while True:
            page = self.read_list_page(message_id, cursor=cursor, size=size)
            yield from page.userids
            # No next_cursor means the end; a cursor that does not move would loop forever.
            if page.next_cursor is None or page.next_cursor == cursor:
                return
            cursor = page.next_cursor
