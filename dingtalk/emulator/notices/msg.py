"""Validation and canonical form of a work-notification `msg` (PROTOCOL 3.1 message bodies)."""

from __future__ import annotations

import json

from .errors import NoticeError

# Required keys inside msg[msgtype] per type (KB/0775); link uses DingTalk's camelCase keys.
REQUIRED = {
    "text": ("content",),
    "image": ("media_id",),
    "voice": ("media_id", "duration"),
    "file": ("media_id",),
    "link": ("messageUrl", "picUrl", "title", "text"),
    "oa": ("message_url", "head", "body"),
    "markdown": ("title", "text"),
    "action_card": ("title", "markdown"),
}


# PROTOCOL 3.8: an uploaded media_id goes into image.media_id, voice.media_id or file.media_id.
# OA body.image, link.picUrl and markdown images are not named there, so they are not checked.
MEDIA_MSGTYPES = frozenset({"image", "voice", "file"})


def media_id_of(msg: dict):
    """The media_id a checked message names (image, voice, file), else None."""
    msgtype = msg.get("msgtype")
    return msg[msgtype].get("media_id") if msgtype in MEDIA_MSGTYPES else None


def canonical(value: dict) -> str:
    """One spelling per content, so 'identical content' means identical JSON values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_msg(raw, *, max_bytes: int, param_code: int = 40035) -> dict:
    """Turn `msg` (object or JSON string) into a checked dict, or raise the DingTalk errcode."""
    if isinstance(raw, str):
        size = len(raw.encode())
        try:
            msg = json.loads(raw)
        except ValueError:
            raise NoticeError(param_code, "msg不是合法的JSON") from None
    else:
        msg = raw
        size = len(canonical(msg).encode()) if isinstance(msg, dict) else 0
    if not isinstance(msg, dict):
        raise NoticeError(param_code, "msg必须是JSON对象")
    if size > max_bytes:
        raise NoticeError(param_code, f"msg超过{max_bytes}字节")
    msgtype = msg.get("msgtype")
    if msgtype not in REQUIRED:
        raise NoticeError(40008)
    body = msg.get(msgtype)
    if not isinstance(body, dict):
        raise NoticeError(param_code, f"缺少{msgtype}字段")
    missing = [key for key in REQUIRED[msgtype] if body.get(key) in (None, "")]
    if missing:
        raise NoticeError(param_code, f"{msgtype}缺少{missing[0]}")
    if msgtype == "action_card":
        _check_action_card(body, param_code)
    return msg


def _check_action_card(card: dict, param_code: int) -> None:
    whole = card.get("single_title") and card.get("single_url")
    buttons = card.get("btn_json_list")
    if not whole and not (isinstance(buttons, list) and buttons):
        raise NoticeError(param_code, "action_card需要single_title/single_url或btn_json_list")


def status_bar_of(msg: dict) -> dict | None:
    """The OA status bar a message carries, if any (only OA messages may carry one)."""
    if msg.get("msgtype") != "oa":
        return None
    bar = msg["oa"].get("status_bar")
    return bar if isinstance(bar, dict) else None
