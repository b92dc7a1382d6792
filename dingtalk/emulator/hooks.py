"""The seam between the emulator core and the callback pusher (E2's `pusher.Pusher`)."""

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("dingtalk.emulator")

# Push kinds the core emits; the pusher maps each to an HTTP EventType or a SyncHTTP row.
PUSH_KINDS = (
    "suite_ticket",  # data: {"ticket"}
    "auth",  # corp authorised: data: {"tmp_auth_code", "permanent_code"}
    "change_auth",  # scope changed
    "relieve",  # de-authorised
    "app_state",  # data: {"action": "stop" | "restore" | "remove", "agent_id", "app_id"}
    "corp_update",  # data: {"action": "org_update" | "org_remove", "changes": {...}}
    "contact",  # data: {"action": "user_add_org" ..., "userids": [...]} or {"dept_ids": [...]}
    "check_create_suite_url",  # data: {"random"}
    "check_update_suite_url",  # data: {"random"}
)


@dataclass(frozen=True)
class PushEvent:
    kind: str
    suite_key: str
    corp_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class NullPusher:
    """Used until dingtalk/emulator/pusher.py exists: state changes work, pushes are dropped."""

    def __init__(self, emulator):
        self.emulator = emulator

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def reset(self) -> None:
        return None

    def notify(self, event: PushEvent) -> None:
        log.debug("no pusher installed; dropping %s push", event.kind)

    def snapshot(self) -> list[dict]:
        return []


def load_pusher(emulator):
    """E2's Pusher(emulator) when dingtalk.emulator.pusher exists, else a NullPusher."""
    try:
        module = importlib.import_module("dingtalk.emulator.pusher")
    except ModuleNotFoundError as exc:
        if exc.name != "dingtalk.emulator.pusher":
            raise
        return NullPusher(emulator)
    return module.Pusher(emulator)
