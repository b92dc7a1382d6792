"""Group chat (chat/*): internal apps only (PROTOCOL 5); ISV tokens get config.isv_chat_errcode."""

import json

from ..codes import ApiFail
from ..context import CallContext
from ..models import Chat
from ..notices.config import media_id_errcode
from ..notices.errors import ERRMSG as NOTICE_ERRMSG
from ..notices.msg import media_id_of
from ..registry import api
from .media import media_in_corp

MEMBERS_PER_CALL = 40
NAME_MAX = 20
MSG_MAX_BYTES = 2048
CONTENT_MAX = 5000
_REQUIRED = {
    "text": ("content",), "image": ("media_id",), "voice": ("media_id", "duration"),
    "file": ("media_id",), "link": ("messageUrl", "picUrl", "title", "text"),
    "oa": ("message_url", "head", "body"), "markdown": ("title", "text"),
    "action_card": ("title", "markdown"),
}
_FLAGS = ("showHistoryType", "searchable", "validationType", "mentionAllAuthority",
          "managementType", "chatBannedType", "icon")


def _internal_only(ctx: CallContext) -> None:
    if ctx.caller.is_isv:
        raise ApiFail(ctx.config.isv_chat_errcode)


def _userids(value) -> list[str] | None:
    """A list, a JSON-array string or a comma string (the seed sent "a,b")."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return None
        else:
            value = [v for v in text.split(",") if v.strip()]
    if not isinstance(value, list):
        return None
    return [str(v).strip() for v in value]


def _chat(ctx: CallContext, *, unknown: int) -> Chat:
    chatid = ctx.get("chatid")
    if not chatid:
        raise ApiFail(49000)
    chat = ctx.state.chats.get(str(chatid))
    if chat is None or chat.corp_id != ctx.caller.corp_id:
        raise ApiFail(unknown)
    return chat


def _check_name(name) -> str:
    name = str(name or "").strip()
    if not name:
        raise ApiFail(40035)
    if len(name) > NAME_MAX:
        raise ApiFail(49015)
    return name


@api("/chat/create", method="POST")
def chat_create(ctx: CallContext) -> dict:
    _internal_only(ctx)
    name = _check_name(ctx.get("name"))
    owner = ctx.get("owner")
    if not owner:
        raise ApiFail(49013)
    userids = _userids(ctx.get("useridlist"))
    if not userids:
        raise ApiFail(49010)
    if len(userids) > MEMBERS_PER_CALL:
        raise ApiFail(49011)
    with ctx.state.lock:
        if any(u not in ctx.corp.users for u in userids):
            raise ApiFail(40031)
        if owner not in userids:
            raise ApiFail(40035, "群主必须为群成员")
        flags = {k: ctx.params[k] for k in _FLAGS if k in ctx.params}
        chat = ctx.state.create_chat(corp_id=ctx.corp.corp_id, name=name, owner=str(owner),
                                     userids=userids, flags=flags)
    return {"chatid": chat.chatid, "openConversationId": chat.open_conversation_id,
            "conversationTag": 2}


@api("/chat/get")
def chat_get(ctx: CallContext) -> dict:
    _internal_only(ctx)
    with ctx.state.lock:
        chat = _chat(ctx, unknown=40016)
        info = {"chatid": chat.chatid, "name": chat.name, "owner": chat.owner,
                "useridlist": list(chat.userids), "conversationTag": 2, "status": chat.status,
                "chatBannedType": 0, "searchable": 0, "validationType": 0,
                "mentionAllAuthority": 0, "managementType": 0, "showHistoryType": 0, "icon": ""}
        info.update(chat.flags)
    return {"chat_info": info}


@api("/chat/update", method="POST")
def chat_update(ctx: CallContext) -> dict:
    _internal_only(ctx)
    add = _userids(ctx.get("add_useridlist")) or []
    delete = _userids(ctx.get("del_useridlist")) or []
    if set(add) & set(delete):
        raise ApiFail(49004)
    if len(add) > MEMBERS_PER_CALL:
        raise ApiFail(49011)
    with ctx.state.lock:
        chat = _chat(ctx, unknown=40016)
        if any(u not in ctx.corp.users for u in add):
            raise ApiFail(40031)
        if ctx.get("name") is not None:
            chat.name = _check_name(ctx.get("name"))
        if ctx.get("owner"):
            chat.owner = str(ctx.get("owner"))
        chat.userids = [u for u in dict.fromkeys(chat.userids + add) if u not in delete]
        chat.flags.update({k: ctx.params[k] for k in _FLAGS if k in ctx.params})
    return {}


def _check_msg(ctx: CallContext) -> dict:
    raw = ctx.get("msg")
    if (raw is None or raw == "") and ctx.get("msgtype"):
        # The 2016 body puts msgtype and its object beside chatid; 007gzs-sdk still sends it.
        msgtype = str(ctx.get("msgtype"))
        raw = {"msgtype": msgtype, msgtype: ctx.json_arg(msgtype)}
    if raw is None or raw == "":
        raise ApiFail(34014)
    msg = raw if isinstance(raw, dict) else ctx.json_arg("msg")
    if not isinstance(msg, dict):
        raise ApiFail(34014)
    msgtype = msg.get("msgtype")
    if msgtype not in _REQUIRED:
        raise ApiFail(34004)
    body = msg.get(msgtype)
    if not isinstance(body, dict) or any(body.get(k) in (None, "") for k in _REQUIRED[msgtype]):
        raise ApiFail(34014)
    text = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MSG_MAX_BYTES:
        raise ApiFail(34016)
    if any(isinstance(v, str) and len(v) > CONTENT_MAX for v in body.values()):
        raise ApiFail(34016)
    return msg


def _check_media(ctx: CallContext, msg: dict) -> None:
    """An image / voice / file message names media its corp uploaded (as work notices do).

    The errcode is the work notices' `media_id_errcode` (40007 by default, None: no check):
    chat/send's documented codes (PROTOCOL 5) include none for a media_id.
    """
    errcode = media_id_errcode(ctx.config.notices)
    media_id = media_id_of(msg) if errcode is not None else None
    if media_id is None:
        return
    with ctx.state.lock:
        known = media_in_corp(ctx.state, ctx.caller.corp_id, media_id)
    if not known:
        raise ApiFail(errcode, NOTICE_ERRMSG.get(errcode))


@api("/chat/send", method="POST")
def chat_send(ctx: CallContext) -> dict:
    _internal_only(ctx)
    with ctx.state.lock:
        chat = _chat(ctx, unknown=34001)
    msg = _check_msg(ctx)
    _check_media(ctx, msg)
    message = ctx.state.add_chat_message(chat=chat, sender=chat.owner, msg=msg)
    return {"messageId": message.message_id}


@api("/chat/getReadList")
def chat_read_list(ctx: CallContext) -> dict:
    """Cursor paging; readUserIdList is omitted when empty and next_cursor at the end."""
    _internal_only(ctx)
    message_id = ctx.get("messageId")
    if not message_id:
        raise ApiFail(40035)
    cursor = ctx.int_arg("cursor", errcode=40068)
    size = ctx.int_arg("size", errcode=40069)
    if cursor < 0:
        raise ApiFail(40068)
    if size < 1 or size > 100:
        raise ApiFail(40069)
    with ctx.state.lock:
        message = ctx.state.chat_messages.get(str(message_id))
        chat = ctx.state.chats.get(message.chatid) if message else None
        if chat is None or chat.corp_id != ctx.caller.corp_id:
            raise ApiFail(40035)
        readers = ctx.state.chat_readers(message)
    out: dict = {}
    page = readers[cursor:cursor + size]
    if page:
        out["readUserIdList"] = page
    if cursor + size < len(readers):
        out["next_cursor"] = cursor + size
    return out
