"""Per-msgtype field checks: required fields, types and DingTalk's length limits."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from dingtalk.errors import MessageError
from dingtalk.messages.limits import (
    MAX_ACTION_URL,
    MAX_BTN_JSON_LIST,
    MAX_BUTTON_TITLE,
    MAX_LINK_TEXT,
    MAX_LINK_TITLE,
    MAX_MARKDOWN_TEXT,
    MAX_SINGLE_TITLE,
    MAX_SINGLE_URL,
    MAX_TEXT_CONTENT,
    MAX_TITLE,
    MAX_VOICE_SECONDS,
)

_ARGB = re.compile(r"^[0-9A-Fa-f]{8}$")


def compact_json(value: Any) -> str:
    """The JSON DingTalk measures: compact separators, UTF-8 characters unescaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


VALIDATORS: dict[str, Callable[[Mapping], Any]] = {
    "text": _check_text,
    "markdown": _check_markdown,
    "link": _check_link,
    "image": lambda body: _require(body, "media_id", "image"),
    "file": lambda body: _require(body, "media_id", "file"),
    "voice": _check_voice,
    "oa": _check_oa,
    "action_card": _check_action_card,
}
