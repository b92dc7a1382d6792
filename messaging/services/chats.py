"""Group chats (the seed's four chat routes): chat/create, chat/get, chat/send, chat/getReadList.

For internal-app tenants only: DingTalk refuses third-party apps on these APIs (PROTOCOL 5,
errcode 60011), so a suite's tenant is refused here with a clear error before any call. Input is
checked by the dingtalk.messages builders before anything is sent; create and send are never
retried blindly (dingtalk.repeat).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dingtalk import messages
from dingtalk.api.models import Chat, ReadListPage
from messaging.errors import ChatsNotForSuites, MessageInvalid
from tenants.models import Tenant
from tenants.services.clients import client_for

# The chat/create flags DingTalk documents (PROTOCOL 5), each 0 or 1; nothing else is passed on.
CREATE_OPTIONS = frozenset({"showHistoryType", "searchable", "validationType",
                            "mentionAllAuthority", "managementType", "chatBannedType"})


def _chats(tenant: Tenant):
    if tenant.kind != Tenant.Kind.INTERNAL_APP:
        raise ChatsNotForSuites(
            "group chats are for internal apps only: DingTalk refuses third-party apps "
            "(errcode 60011)", extra={"corp_id": tenant.corp_id})
    return client_for(tenant).chats


def chat_create(*, tenant: Tenant, name: str, owner: str, userids: Sequence[str],
                options: Mapping[str, int] | None = None) -> Chat:
    """Create a group chat (the owner among its 1-40 first members)."""
    options = dict(options or {})
    unknown = sorted(set(options) - CREATE_OPTIONS)
    bad = sorted(k for k, v in options.items() if k in CREATE_OPTIONS and v not in (0, 1))
    if unknown or bad:
        raise MessageInvalid("unknown or invalid chat options",
                             extra={"unknown": unknown, "not_0_or_1": bad})
    chats = _chats(tenant)
    try:
        return chats.create(name, owner, userids, **options)
    except messages.MessageError as exc:
        raise MessageInvalid(str(exc)) from None


def chat_get(*, tenant: Tenant, chat_id: str) -> Chat:
    """A group chat's details."""
    return _chats(tenant).get(chat_id)


def chat_send(*, tenant: Tenant, chat_id: str,
              msg: messages.Message | Mapping[str, Any] | str) -> str:
    """Send a message to a group chat; returns DingTalk's messageId."""
    chats = _chats(tenant)
    try:
        message = messages.from_dict(msg)
    except messages.MessageError as exc:
        raise MessageInvalid(str(exc)) from None
    return chats.send(chat_id, message)


def chat_read_list(*, tenant: Tenant, message_id: str, cursor: int = 0,
                   size: int = 100) -> ReadListPage:
    """One page of the members who read a chat message (size 1-100)."""
    if not 1 <= size <= 100 or cursor < 0:
        raise MessageInvalid("size is 1-100 and cursor at least 0",
                             extra={"size": size, "cursor": cursor})
    return _chats(tenant).read_list_page(message_id, cursor=cursor, size=size)
