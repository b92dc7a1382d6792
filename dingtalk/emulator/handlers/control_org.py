"""Control routes that change an org after creation: corp updates, contact changes, chat reads."""

import secrets
from dataclasses import asdict, fields, replace

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
        # A new record, not an edit in place: a failed batch puts the old one back.
        old, changes = corp.users[userid], _user_spec(corp, spec)
        if "depts" in changes and "orders" not in changes:
            # DingTalk keeps an order per department the user is in: none for one left.
            changes["orders"] = {d: old.orders.get(d, 0) for d in changes["depts"]}
        corp.users[userid] = replace(old, **changes)
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
        corp.depts[dept_id] = replace(corp.depts[dept_id], **changes)
    return [dept_id]


_USER_ACTIONS = ("user_add_org", "user_modify_org", "user_leave_org")
_DEPT_ACTIONS = ("org_dept_create", "org_dept_modify", "org_dept_remove")


def _apply(corp, change: dict, now_ms: int) -> dict:
    """One contact change on the corp -> {"action", "userids" | "dept_ids"}."""
    if not isinstance(change, dict):
        raise ControlError(400, "each change is an object {action, user | dept}")
    action = change.get("action")
    if action in _USER_ACTIONS:
        spec = dict(change.get("user") or {})
        leaving = corp.users.get(spec.get("userid")) if action == "user_leave_org" else None
        ids = {"userids": _user_change(corp, action, spec, now_ms)}
        if leaving is not None:  # the "ids" leave form names the unionid of a gone user
            ids["unionid"] = leaving.unionid
    elif action in _DEPT_ACTIONS:
        ids = {"dept_ids": _dept_change(corp, action, dict(change.get("dept") or {}))}
    else:
        raise ControlError(400, f"unknown action {action}")
    corp.reindex()  # the next change's checks (members, subtree) see this one
    return {"action": action, **ids}


def _apply_all(corp, changes: list, now_ms: int) -> list[dict]:
    """Every change or none: a refused change puts the corp back as it was."""
    saved = (dict(corp.users), dict(corp.depts), corp.next_dept_id)
    try:
        return [_apply(corp, change, now_ms) for change in changes]
    except Exception:
        corp.users, corp.depts, corp.next_dept_id = saved[0], saved[1], saved[2]
        corp.reindex()
        raise


def _delivery(ctx: ControlContext) -> dict:
    """Per-call delivery faults: hold, drop, duplicate (booleans; absent = the config's)."""
    out = {k: ctx.arg(k) for k in ("hold", "drop", "duplicate") if ctx.arg(k) is not None}
    if not all(isinstance(v, bool) for v in out.values()):
        raise ControlError(400, "hold, drop and duplicate are true or false")
    return out


def _notify_contact(ctx: ControlContext, corp_id: str, applied: list[dict],
                    delivery: dict) -> tuple[list[str], list[int]]:
    """SyncHTTP suites get one push of all the rows (DingTalk batches rows); HTTP-push suites
    one event per change (an EventType names one action)."""
    state, pusher = ctx.emulator.state, ctx.emulator.pusher
    auths = [r for r in state.auths.values() if r.corp_id == corp_id and r.active]
    suites, push_ids = [], []
    for record in auths:
        suite = state.suites.get(record.suite_key)
        if suite is None:
            continue
        suites.append(suite.suite_key)
        events = ([{"changes": applied}] if suite.push_style == "sync_http"
                  else [dict(change) for change in applied])
        for data in events:
            push = pusher.notify(PushEvent(kind="contact", suite_key=suite.suite_key,
                                           corp_id=corp_id, data=data), **delivery)
            if push is not None:
                push_ids.append(push.id)
    return suites, push_ids


@control("/_emulator/corps/<corp_id>/contact_change")
def contact_change(ctx: ControlContext, corp_id: str) -> dict:
    """Apply user/department changes and push them as contact rows (biz_type 13 / 14).

    Body {action, user | dept} or {changes: [{action, user | dept}, ...]} (all or none
    applied, one SyncHTTP push of their rows), plus optional hold / drop / duplicate.
    """
    batch = ctx.arg("changes")
    if batch is not None and (not isinstance(batch, list) or not batch):
        raise ControlError(400, "changes must be a non-empty list")
    changes = batch if batch is not None else [{"action": ctx.require("action"),
                                                "user": ctx.arg("user"), "dept": ctx.arg("dept")}]
    delivery = _delivery(ctx)
    state = ctx.emulator.state
    with state.lock:
        corp = _corp(ctx, corp_id)
        applied = _apply_all(corp, changes, ctx.emulator.clock.now_ms())
        userids = [u for change in applied for u in change.get("userids", [])]
        dept_ids = [d for change in applied for d in change.get("dept_ids", [])]
        records = [asdict(corp.users[u]) for u in dict.fromkeys(userids) if u in corp.users]
        records += [asdict(corp.depts[d]) for d in dict.fromkeys(dept_ids) if d in corp.depts]
    suites, push_ids = _notify_contact(ctx, corp_id, applied, delivery)
    out = {"records": records, "notified": suites, "push_ids": push_ids}
    if batch is not None:
        return {"changes": applied, **out}
    return {**applied[0], **out}


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
