"""Saving the emulator's world to a JSON file and loading it back (--state-file)."""

import json
import os
from dataclasses import asdict
from typing import TYPE_CHECKING

from .models import (
    App,
    AuthRecord,
    Chat,
    ChatMessage,
    Corp,
    Department,
    IsvCorp,
    Suite,
    TmpAuthCode,
    Token,
    User,
)

if TYPE_CHECKING:
    from .app import Emulator

_DERIVED = ("children", "members", "by_unionid")


def dump(emulator: "Emulator") -> dict:
    state = emulator.state
    with state.lock:
        corps = []
        for corp in state.corps.values():
            data = {k: v for k, v in asdict(corp).items() if k not in _DERIVED}
            data["depts"] = list(data["depts"].values())
            data["users"] = [{**u, "orders": list(u["orders"].items())}
                             for u in data["users"].values()]
            corps.append(data)
        return {
            "version": 1,
            "config": emulator.config.as_dict(),
            "clock_offset_ms": emulator.clock.offset_ms,
            "corp_count": state.corp_count,
            "corps": corps,
            "apps": [asdict(a) for a in state.apps.values()],
            "suites": [asdict(s) for s in state.suites.values()],
            "auths": [asdict(r) for r in state.auths.values()],
            "tmp_codes": [asdict(c) for c in state.tmp_codes.values()],
            "tokens": [asdict(t) for t in state.tokens.values()],
            "current_app_token": state.current_app_token,
            "chats": [asdict(c) for c in state.chats.values()],
            "chat_messages": [asdict(m) for m in state.chat_messages.values()],
            "isv_corps": [asdict(i) for i in state.isv_corps.values()],
            "sso_tokens": [asdict(t) for t in state.sso_tokens.values()],
        }


def restore(emulator: "Emulator", data: dict) -> None:
    emulator.reset()
    emulator.config.update({k: v for k, v in data.get("config", {}).items()})
    emulator.clock.advance(max(0, data.get("clock_offset_ms", 0)) / 1000.0)
    state = emulator.state
    with state.lock:
        state.corp_count = data.get("corp_count", 0)
        for raw in data.get("corps", []):
            corp = Corp(**{k: v for k, v in raw.items() if k not in ("depts", "users")})
            corp.depts = {d["id"]: Department(**d) for d in raw["depts"]}
            for u in raw["users"]:
                user = User(**{**u, "orders": {int(k): v for k, v in u["orders"]}})
                corp.users[user.userid] = user
            corp.reindex()
            state.corps[corp.corp_id] = corp
        state.apps = {a["appkey"]: App(**a) for a in data.get("apps", [])}
        state.suites = {s["suite_key"]: Suite(**s) for s in data.get("suites", [])}
        state.auths = {(r["suite_key"], r["corp_id"]): AuthRecord(**r)
                       for r in data.get("auths", [])}
        state.tmp_codes = {c["code"]: TmpAuthCode(**c) for c in data.get("tmp_codes", [])}
        state.tokens = {t["value"]: Token(**t) for t in data.get("tokens", [])}
        state.current_app_token = dict(data.get("current_app_token", {}))
        state.chats = {c["chatid"]: Chat(**c) for c in data.get("chats", [])}
        state.chat_messages = {m["message_id"]: ChatMessage(**m)
                               for m in data.get("chat_messages", [])}
        state.isv_corps = {i["corp_id"]: IsvCorp(**i) for i in data.get("isv_corps", [])}
        state.sso_tokens = {t["value"]: Token(**t) for t in data.get("sso_tokens", [])}


def save(emulator: "Emulator", path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(dump(emulator), fh, ensure_ascii=False)
    os.replace(tmp, path)


def load_if_present(emulator: "Emulator", path: str) -> bool:
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as fh:
        restore(emulator, json.load(fh))
    return True
