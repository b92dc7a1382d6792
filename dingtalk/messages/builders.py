"""The Message value and one builder per msgtype; each checks its fields and the 2048-byte cap."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dingtalk.errors import MessageError
from dingtalk.messages.checks import VALIDATORS, compact_json
from dingtalk.messages.limits import MAX_MSG_BYTES, MSGTYPES


@dataclass(frozen=True)
class Message:
    """A validated `msg` object: build it with the functions of this package or `from_dict`."""

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
    VALIDATORS[msgtype](body)
    message = Message(msgtype, body)
    size = message.size_bytes
    if size > MAX_MSG_BYTES:
        raise MessageError(f"{msgtype} message is {size} bytes; DingTalk allows {MAX_MSG_BYTES}")
    return message
