"""Control routes of the pusher: list pushes, release held ones, trigger URL checks."""

from __future__ import annotations

import secrets

from ..context import ControlContext, ControlError
from ..registry import control
from .events import PushEvent


@control("/_emulator/pushes", methods=("GET",))
def pushes(ctx: ControlContext) -> list[dict]:
    """Query arg suite_key filters; each push: id, suite_key, kind, event, corp_id, status,
    attempts, last_status, acknowledged, next_attempt_ms, created_ms, push_style."""
    return ctx.emulator.pusher.snapshot(ctx.arg("suite_key"))


@control("/_emulator/suites/<suite_key>/check_url", methods=("POST",))
def check_url(ctx: ControlContext, suite_key: str) -> dict:
    """Body {"kind": "create" | "update", "random"?}: push check_create_suite_url (encrypted
    with the legacy key suite4xxxxxxxxxxxxxxx) or check_update_suite_url. -> the push."""
    kind = ctx.arg("kind", "update")
    if kind not in ("create", "update"):
        raise ControlError(400, "kind must be create or update")
    if suite_key not in ctx.emulator.state.suites:
        raise ControlError(404, f"no suite {suite_key}")
    random = str(ctx.arg("random") or secrets.token_hex(4))
    record = ctx.emulator.pusher.notify(PushEvent(
        kind=f"check_{kind}_suite_url", suite_key=suite_key, data={"random": random}))
    return {"random": random, "push": record.view() if record is not None else None}


@control("/_emulator/pushes/release")
def release(ctx: ControlContext) -> dict:
    """Queue held pushes. Body {suite_key?, corp_id?, order: "forward" | "reverse",
    coalesce?: bool (one SyncHTTP push of all their rows per suite)} -> {"released": [...]}."""
    order = ctx.arg("order", "forward")
    coalesce = ctx.arg("coalesce", False)
    if order not in ("forward", "reverse") or not isinstance(coalesce, bool):
        raise ControlError(400, "order must be forward or reverse, coalesce true or false")
    records = ctx.emulator.pusher.release(suite_key=ctx.arg("suite_key"),
                                          corp_id=ctx.arg("corp_id"), order=order,
                                          coalesce=coalesce)
    return {"released": [r.view() for r in records]}
