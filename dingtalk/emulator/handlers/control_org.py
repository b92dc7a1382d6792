"""Control routes that change an org after creation: corp updates, contact changes, chat reads."""

import secrets
from dataclasses import asdict, fields

from ..checks import check_fields
from ..context import ControlContext, ControlError
from ..models import ROOT_DEPT_ID, Department, User
from ..pushes import PushEvent
from ..registry import control

_USER_FIELDS = {f.name for f in fields(User)} - {"userid", "unionid"}
_DEPT_FIELDS = {f.name for f in fields(Department)} - {"id"}
_CORP_FIELDS = ("name", "full_name", "industry", "logo_url")


def _corp(ctx: ControlContext, corp_id: str):
    corp = ctx.emulator.state.corps.get(corp_id)
    if corp is None:
        raise ControlError(404, f"no corp {corp_id}")
    return corp


def _notify_suites(ctx: ControlContext, corp_id: str, kind: str, **data) -> list[str]:
    """Tell every suite the corp has authorised (the pusher decides what to send)."""
    state = ctx.emulator.state
    suites = [r.suite_key for r in state.auths.values() if r.corp_id == corp_id and r.active]
    for suite_key in suites:
        ctx.emulator.pusher.notify(PushEvent(kind=kind, suite_key=suite_key, corp_id=corp_id,
                                             data=data))
    return suites


def _pick(spec: dict, cls, allowed: set[str]) -> dict:
    """The changes of one User / Department, typed as the record's fields."""
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ControlError(400, f"unknown fields: {', '.join(unknown)}")
    check_fields(cls, spec)
    out = dict(spec)
    if "orders" in out:
        out["orders"] = {int(k): int(v) for k, v in out["orders"].items()}
    return out


def _user_spec(corp, spec: dict) -> dict:
    """A user may only sit in, lead or be ordered in departments the corp has."""
    out = _pick(spec, User, _USER_FIELDS)
    named = [*out.get("depts", []), *out.get("leader_in", []), *out.get("orders", {})]
    missing = sorted({d for d in named if d not in corp.depts})
    if missing:
        raise ControlError(400, f"no such departments: {missing}")
    return out


@control("/_emulator/corps/<corp_id>/update")
def corp_update(ctx: ControlContext, corp_id: str) -> dict:
    """Change corp fields; pushes corp_update (biz_type 16 org_update) to its suites."""
    state = ctx.emulator.state
    with state.lock:
        corp = _corp(ctx, corp_id)
        changes = {k: v for k, v in ctx.body.items()}
        unknown = sorted(set(changes) - set(_CORP_FIELDS))
        if unknown or not all(isinstance(v, str) for v in changes.values()):
            raise ControlError(400, f"corp fields are strings among {', '.join(_CORP_FIELDS)}")
        for key, value in changes.items():
            setattr(corp, key, value)
    suites = _notify_suites(ctx, corp_id, "corp_update", action="org_update", changes=changes)
    return {"corp_id": corp_id, "changes": changes, "notified": suites}


def _user_change(corp, action: str, spec: dict, now_ms: int) -> list[str]:
    if action == "user_add_org":
        userid = spec.pop("userid", None) or "u" + secrets.token_hex(5)
        if userid in corp.users:
            raise ControlError(400, f"user {userid} exists")
        spec.setdefault("depts", [ROOT_DEPT_ID])
        spec.setdefault("name", userid)
        spec.setdefault("entry_ms", now_ms)
        user = User(userid=userid, unionid=secrets.token_hex(12) + "iE",
                    **_user_spec(corp, spec))
        user.orders = user.orders or {d: 0 for d in user.depts}
        corp.users[userid] = user
        return [userid]
    userid = spec.pop("userid", None)
    if userid not in corp.users:
        raise ControlError(404, f"no user {userid}")
    if action == "user_leave_org":
        del corp.users[userid]
    else:
        for key, value in _user_spec(corp, spec).items():
            setattr(corp.users[userid], key, value)
    return [userid]


def _dept_change(corp, action: str, spec: dict) -> list[int]:
    if action == "org_dept_create":
        dept_id = int(spec.pop("id", 0) or corp.next_dept_id)
        corp.next_dept_id = max(corp.next_dept_id, dept_id) + 1
        spec.setdefault("parent_id", ROOT_DEPT_ID)
        if spec["parent_id"] not in corp.depts or dept_id in corp.depts:
            raise ControlError(400, "bad parent_id or existing id")
        spec.setdefault("name", f"部门{dept_id}")
        corp.depts[dept_id] = Department(id=dept_id, **_pick(spec, Department, _DEPT_FIELDS))
        return [dept_id]
    dept_id = int(spec.pop("id", 0))
    if dept_id not in corp.depts or dept_id == ROOT_DEPT_ID:
        raise ControlError(404, f"no removable/modifiable dept {dept_id}")
    if action == "org_dept_remove":
        if corp.children.get(dept_id) or corp.members.get(dept_id):
            raise ControlError(400, "the department still has sub-departments or members")
        del corp.depts[dept_id]
    else:
        changes = _pick(spec, Department, _DEPT_FIELDS)
        parent = changes.get("parent_id", corp.depts[dept_id].parent_id)
        if parent not in corp.depts or parent in corp.subtree(dept_id):
            raise ControlError(400, "parent_id must be an existing department outside this one")
        for key, value in changes.items():
            setattr(corp.depts[dept_id], key, value)
    return [dept_id]


@control("/_emulator/corps/<corp_id>/contact_change")
def contact_change(ctx: ControlContext, corp_id: str) -> dict:
    """Apply a user/department change and push a contact event (biz_type 13 / 14)."""
    action = ctx.require("action")
    state = ctx.emulator.state
    with state.lock:
        corp = _corp(ctx, corp_id)
        if action in ("user_add_org", "user_modify_org", "user_leave_org"):
            ids = {"userids": _user_change(corp, action, dict(ctx.arg("user") or {}),
                                           ctx.emulator.clock.now_ms())}
        elif action in ("org_dept_create", "org_dept_modify", "org_dept_remove"):
            ids = {"dept_ids": _dept_change(corp, action, dict(ctx.arg("dept") or {}))}
        else:
            raise ControlError(400, f"unknown action {action}")
        corp.reindex()
        changed = [asdict(corp.users[u]) for u in ids.get("userids", []) if u in corp.users]
        changed += [asdict(corp.depts[d]) for d in ids.get("dept_ids", []) if d in corp.depts]
    suites = _notify_suites(ctx, corp_id, "contact", action=action, **ids)
    return {"action": action, **ids, "records": changed, "notified": suites}


@control("/_emulator/chats/read")
def chat_read(ctx: ControlContext) -> dict:
    """Mark a chat message (chat/send's messageId) read by some members."""
    state = ctx.emulator.state
    with state.lock:
        message = state.chat_messages.get(ctx.require("message_id"))
        if message is None:
            raise ControlError(404, "no such chat message")
        for userid in ctx.require("userids"):
            if userid not in message.read_userids:
                message.read_userids.append(userid)
        return {"message_id": message.message_id, "read_userids": list(message.read_userids)}
