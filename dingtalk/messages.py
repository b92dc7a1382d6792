"""Message builders for work notices and chats, checked against DingTalk's limits before sending."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dingtalk.errors import MessageError

# PROTOCOL 3.1: the whole `msg` object may be at most 2048 bytes.
MAX_MSG_BYTES = 2048
# PROTOCOL 3.1 / errcode 34016: field limits in characters.
MAX_TEXT_CONTENT = 5000
MAX_MARKDOWN_TEXT = 5000
MAX_TITLE = 64
MAX_LINK_TITLE = 100
MAX_LINK_TEXT = 500
MAX_SINGLE_TITLE = 20
MAX_SINGLE_URL = 500
MAX_BTN_JSON_LIST = 1000
MAX_BUTTON_TITLE = 20
MAX_ACTION_URL = 700
MAX_VOICE_SECONDS = 60
# PROTOCOL 3.1: an OA status bar is only allowed for at most 5 userids.
MAX_STATUS_BAR_USERIDS = 5

MSGTYPES = ("text", "image", "voice", "file", "link", "oa", "markdown", "action_card")
_ARGB = re.compile(r"^[0-9A-Fa-f]{8}$")


@dataclass(frozen=True)
class Message:
    """A validated `msg` object: build it with the functions of this module or `from_dict`."""

    msgtype: str
    body: Mapping[str, Any]

    def to_dict(self) -> dict:
        return {"msgtype": self.msgtype, self.msgtype: json.loads(json.dumps(self.body))}

    def to_json(self) -> str:
        return compact_json(self.to_dict())

    @property
    def size_bytes(self) -> int:
        return len(self.to_json().encode("utf-8"))

    @property
    def has_status_bar(self) -> bool:
        return self.msgtype == "oa" and bool(self.body.get("status_bar"))


def compact_json(value: Any) -> str:
    """The JSON DingTalk measures: compact separators, UTF-8 characters unescaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text(content: str) -> Message:
    """A plain text message."""
    return _build("text", {"content": content})


def markdown(title: str, text: str) -> Message:
    """A markdown message (`title` shows in the conversation list)."""
    return _build("markdown", {"title": title, "text": text})


def link(*, title: str, text: str, message_url: str, pic_url: str) -> Message:
    """A link card; DingTalk spells these keys in camelCase."""
    return _build(
        "link", {"title": title, "text": text, "messageUrl": message_url, "picUrl": pic_url}
    )


def image(media_id: str) -> Message:
    """An image uploaded earlier (media_id like `@lADOADmaWMzazQKA`)."""
    return _build("image", {"media_id": media_id})


def file(media_id: str) -> Message:
    """A file uploaded earlier."""
    return _build("file", {"media_id": media_id})


def voice(media_id: str, duration: int) -> Message:
    """A voice clip uploaded earlier; duration in whole seconds, under 60."""
    return _build("voice", {"media_id": media_id, "duration": str(duration)})


def oa(
    *,
    message_url: str,
    head_text: str = "",
    head_bgcolor: str = "FFBBBBBB",
    title: str | None = None,
    content: str | None = None,
    form: Iterable[tuple[str, str]] = (),
    author: str | None = None,
    image: str | None = None,
    file_count: int | None = None,
    rich: tuple[str, str] | None = None,
    pc_message_url: str | None = None,
    status_value: str | None = None,
    status_bg: str | None = None,
) -> Message:
    """An OA card; a status bar (status_value) may only go to at most 5 userids."""
    body: dict[str, Any] = {}
    for key, value in (("title", title), ("content", content), ("author", author),
                       ("image", image)):
        if value is not None:
            body[key] = value
    form_rows = [{"key": k, "value": v} for k, v in form]
    if form_rows:
        body["form"] = form_rows
    if file_count is not None:
        body["file_count"] = str(file_count)
    if rich is not None:
        body["rich"] = {"num": rich[0], "unit": rich[1]}
    msg: dict[str, Any] = {"message_url": message_url,
                           "head": {"bgcolor": head_bgcolor, "text": head_text}, "body": body}
    if pc_message_url is not None:
        msg["pc_message_url"] = pc_message_url
    if status_value is not None:
        msg["status_bar"] = {"status_value": status_value, "status_bg": status_bg or ""}
    return _build("oa", msg)


def action_card(
    *,
    title: str,
    markdown: str,
    single_title: str | None = None,
    single_url: str | None = None,
    buttons: Sequence[tuple[str, str]] = (),
    btn_orientation: str = "0",
) -> Message:
    """An action card: either one whole-card link (single_*) or a list of (title, url) buttons."""
    card: dict[str, Any] = {"title": title, "markdown": markdown}
    if single_title is not None or single_url is not None:
        card["single_title"] = single_title
        card["single_url"] = single_url
    if buttons:
        card["btn_orientation"] = btn_orientation
        card["btn_json_list"] = [{"title": t, "action_url": u} for t, u in buttons]
    return _build("action_card", card)


def from_dict(msg: Mapping[str, Any] | str | Message) -> Message:
    """Validate a raw `msg` (object or JSON string) the way the builders do."""
    if isinstance(msg, Message):
        return msg
    if isinstance(msg, str):
        try:
            msg = json.loads(msg)
        except ValueError as exc:
            raise MessageError("msg is not valid JSON") from exc
    if not isinstance(msg, Mapping):
        raise MessageError("msg must be a JSON object")
    msgtype = msg.get("msgtype")
    if msgtype not in MSGTYPES:
        raise MessageError(f"unknown msgtype {msgtype!r}; expected one of {', '.join(MSGTYPES)}")
    body = msg.get(msgtype)
    if not isinstance(body, Mapping):
        raise MessageError(f"msg.{msgtype} must be an object")
    return _build(msgtype, dict(body))


def _build(msgtype: str, body: dict[str, Any]) -> Message:
    _VALIDATORS[msgtype](body)
    message = Message(msgtype, body)
    size = message.size_bytes
    if size > MAX_MSG_BYTES:
        raise MessageError(f"{msgtype} message is {size} bytes; DingTalk allows {MAX_MSG_BYTES}")
    return message


def _require(body: Mapping, key: str, where: str, limit: int | None = None) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MessageError(f"{where}.{key} is required (a non-empty string)")
    _limit(value, f"{where}.{key}", limit)
    return value


def _optional(body: Mapping, key: str, where: str, limit: int | None = None) -> None:
    value = body.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise MessageError(f"{where}.{key} must be a string")
    _limit(value, f"{where}.{key}", limit)


def _limit(value: str, name: str, limit: int | None) -> None:
    if limit is not None and len(value) > limit:
        raise MessageError(f"{name} is {len(value)} characters; the limit is {limit}")


def _check_text(body: Mapping) -> None:
    _require(body, "content", "text", MAX_TEXT_CONTENT)


def _check_markdown(body: Mapping) -> None:
    _require(body, "title", "markdown", MAX_TITLE)
    _require(body, "text", "markdown", MAX_MARKDOWN_TEXT)


def _check_link(body: Mapping) -> None:
    _require(body, "title", "link", MAX_LINK_TITLE)
    _require(body, "text", "link", MAX_LINK_TEXT)
    _require(body, "messageUrl", "link")
    _require(body, "picUrl", "link")


def _check_voice(body: Mapping) -> None:
    _require(body, "media_id", "voice")
    duration = str(body.get("duration", ""))
    if not duration.isdigit() or not 0 < int(duration) < MAX_VOICE_SECONDS:
        raise MessageError(f"voice.duration must be whole seconds between 1 and "
                           f"{MAX_VOICE_SECONDS - 1}")


def _check_oa(body: Mapping) -> None:
    _require(body, "message_url", "oa")
    _optional(body, "pc_message_url", "oa")
    head = body.get("head")
    if not isinstance(head, Mapping):
        raise MessageError("oa.head is required (an object with bgcolor and text)")
    if not isinstance(head.get("bgcolor"), str) or not _ARGB.match(head["bgcolor"]):
        raise MessageError("oa.head.bgcolor must be 8 hex digits (ARGB, no 0x)")
    _optional(head, "text", "oa.head")
    if not isinstance(body.get("body"), Mapping):
        raise MessageError("oa.body is required (an object)")
    oa_body = body["body"]
    _optional(oa_body, "title", "oa.body", MAX_TITLE)
    _optional(oa_body, "content", "oa.body", MAX_TEXT_CONTENT)
    bar = body.get("status_bar")
    if bar is not None:
        if not isinstance(bar, Mapping):
            raise MessageError("oa.status_bar must be an object")
        _require(bar, "status_value", "oa.status_bar")


def _check_action_card(body: Mapping) -> None:
    _require(body, "title", "action_card", MAX_TITLE)
    _require(body, "markdown", "action_card", MAX_MARKDOWN_TEXT)
    single = body.get("single_title") is not None or body.get("single_url") is not None
    buttons = body.get("btn_json_list")
    if single == bool(buttons):
        raise MessageError("action_card needs either single_title + single_url or "
                           "btn_json_list, not both and not neither")
    if single:
        _require(body, "single_title", "action_card", MAX_SINGLE_TITLE)
        _require(body, "single_url", "action_card", MAX_SINGLE_URL)
        return
    if not isinstance(buttons, list) or not all(isinstance(b, Mapping) for b in buttons):
        raise MessageError("action_card.btn_json_list must be a list of objects")
    for button in buttons:
        _require(button, "title", "action_card.btn_json_list[]", MAX_BUTTON_TITLE)
        _require(button, "action_url", "action_card.btn_json_list[]", MAX_ACTION_URL)
    _limit(compact_json(buttons), "action_card.btn_json_list", MAX_BTN_JSON_LIST)
    if str(body.get("btn_orientation", "0")) not in ("0", "1"):
        raise MessageError('action_card.btn_orientation must be "0" (vertical) or "1"')


_VALIDATORS = {
    "text": _check_text,
    "markdown": _check_markdown,
    "link": _check_link,
    "image": lambda body: _require(body, "media_id", "image"),
    "file": lambda body: _require(body, "media_id", "file"),
    "voice": _check_voice,
    "oa": _check_oa,
    "action_card": _check_action_card,
}


@dataclass(frozen=True)
class RecipientLimits:
    """List lengths per send: PROTOCOL 3.1's doc table (the Java SDK allows 5000/500)."""

    max_userids: int = 100
    max_dept_ids: int = 20


def recipients(
    userids: Iterable[str] = (),
    dept_ids: Iterable[int] = (),
    to_all_user: bool = False,
    *,
    limits: RecipientLimits | None = None,
    msg: Message | None = None,
) -> dict[str, Any]:
    """The recipient fields of a send body, refused early when DingTalk would refuse them."""
    limits = limits or RecipientLimits()
    users = [str(u) for u in userids]
    depts = [int(d) for d in dept_ids]
    if not users and not depts and not to_all_user:
        raise MessageError("give at least one of userids, dept_ids or to_all_user")
    if any(not u.strip() or "," in u for u in users):
        raise MessageError("userids must be non-empty and contain no commas")
    if len(users) > limits.max_userids:
        raise MessageError(f"{len(users)} userids; at most {limits.max_userids} per send")
    if len(depts) > limits.max_dept_ids:
        raise MessageError(f"{len(depts)} dept ids; at most {limits.max_dept_ids} per send")
    if msg is not None and msg.has_status_bar and (
        depts or to_all_user or len(users) > MAX_STATUS_BAR_USERIDS
    ):
        raise MessageError(f"an OA status bar may only go to at most {MAX_STATUS_BAR_USERIDS} "
                           "userids, without dept ids or to_all_user")
    fields: dict[str, Any] = {}
    if users:
        fields["userid_list"] = ",".join(users)
    if depts:
        fields["dept_id_list"] = ",".join(str(d) for d in depts)
    if to_all_user:
        fields["to_all_user"] = True
    return fields
