"""The control route GET /_emulator/pushes: every callback push and its delivery state."""

from __future__ import annotations

from .context import ControlContext
from .registry import control


@control("/_emulator/pushes", methods=("GET",))
def pushes(ctx: ControlContext) -> list[dict]:
    """Query arg suite_key filters; each push: id, suite_key, kind, event, corp_id, status,
    attempts, last_status, acknowledged, next_attempt_ms, created_ms, push_style."""
    return ctx.emulator.pusher.snapshot(ctx.arg("suite_key"))
