"""What the emulator core hands the pusher after a state change: one PushEvent per push."""

from dataclasses import dataclass, field
from typing import Any

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
    "market",  # data: {"biz_type", "action", "biz_id", "fields", "table"} (pushes/market.py)
)


@dataclass(frozen=True)
class PushEvent:
    kind: str
    suite_key: str
    corp_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
