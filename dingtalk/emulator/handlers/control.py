"""The /_emulator/ control API: reset, clock, corps, apps, suites, auth, faults, counters."""

import re
from dataclasses import asdict

from ..auth_info import auth_info
from ..checks import check_fields, int_list, str_list
from ..context import ControlContext, ControlError
from ..models import App, Suite
from ..pushes import PushEvent
from ..registry import control

_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")


def _corp_summary(corp, *, detail: bool) -> dict:
    out = {"corp_id": corp.corp_id, "name": corp.name, "corpsecret": corp.corpsecret,
           "user_count": len(corp.users), "dept_count": len(corp.depts)}
    if detail:
        out["dept_ids"] = sorted(corp.depts)
        out["userids"] = list(corp.users)
    return out


def _corp(ctx: ControlContext, corp_id: str):
    corp = ctx.emulator.state.corps.get(corp_id)
    if corp is None:
        raise ControlError(404, f"no corp {corp_id}")
    return corp


def _suite(ctx: ControlContext, suite_key: str):
    suite = ctx.emulator.state.suites.get(suite_key)
    if suite is None:
        raise ControlError(404, f"no suite {suite_key}")
    return suite


def _notify(ctx: ControlContext, kind: str, suite_key: str, corp_id=None, **data) -> None:
    ctx.emulator.pusher.notify(PushEvent(kind=kind, suite_key=suite_key, corp_id=corp_id,
                                         data=data))


@control("/_emulator/reset")
def reset(ctx: ControlContext) -> dict:
    ctx.emulator.reset(seed=ctx.arg("seed"), config=ctx.arg("config"))
    return {"ok": True}


@control("/_emulator/clock", methods=("GET",))
def clock_get(ctx: ControlContext) -> dict:
    clock = ctx.emulator.clock
    return {"now_ms": clock.now_ms(), "offset_ms": clock.offset_ms, "real_ms": clock.real_ms()}


@control("/_emulator/clock/advance")
def clock_advance(ctx: ControlContext) -> dict:
    now = ctx.emulator.clock.advance(float(ctx.require("seconds")))
    return {"now_ms": now, "offset_ms": ctx.emulator.clock.offset_ms}


@control("/_emulator/config", methods=("GET", "POST"))
def config(ctx: ControlContext) -> dict:
    if ctx.request.method == "POST":
        ctx.emulator.config.update(ctx.body)
    return ctx.emulator.config.as_dict()


@control("/_emulator/corps", methods=("GET", "POST"))
def corps(ctx: ControlContext):
    state = ctx.emulator.state
    if ctx.request.method == "GET":
        return [_corp_summary(c, detail=False) for c in state.corps.values()]
    depts = ctx.arg("depts")
    corp = state.create_corp(users=int(ctx.arg("users", 0)), name=ctx.arg("name"),
                             corp_id=ctx.arg("corp_id"), seed=ctx.arg("seed"),
                             depts=None if depts is None else int(depts))
    return _corp_summary(corp, detail=True)


@control("/_emulator/corps/<corp_id>", methods=("GET",))
def corp_get(ctx: ControlContext, corp_id: str) -> dict:
    corp = _corp(ctx, corp_id)
    with ctx.emulator.state.lock:
        out = _corp_summary(corp, detail=True)
        out["departments"] = [asdict(d) for d in corp.depts.values()]
        if str(ctx.arg("users", "1")) not in ("0", "false"):
            out["users"] = [asdict(u) for u in corp.users.values()]
    return out


@control("/_emulator/apps", methods=("POST",))
def app_create(ctx: ControlContext) -> dict:
    spec = {k: ctx.body[k] for k in ("name", "appkey", "appsecret", "agent_id")
            if ctx.body.get(k) is not None}
    check_fields(App, spec)
    app = ctx.emulator.state.create_app(corp_id=_corp(ctx, ctx.require("corp_id")).corp_id,
                                        **spec)
    return asdict(app)


@control("/_emulator/apps/<appkey>", methods=("GET",))
def app_get(ctx: ControlContext, appkey: str) -> dict:
    app = ctx.emulator.state.apps.get(appkey)
    if app is None:
        raise ControlError(404, f"no app {appkey}")
    return asdict(app)


_SUITE_FIELDS = ("suite_key", "suite_id", "suite_secret", "token", "aes_key", "name",
                 "callback_url", "push_style", "message_api", "templates", "legacy_url_check")


@control("/_emulator/suites", methods=("POST",))
def suite_create(ctx: ControlContext) -> dict:
    fields = {k: ctx.body[k] for k in _SUITE_FIELDS if ctx.body.get(k) is not None}
    if isinstance(fields.get("suite_id"), str) and fields["suite_id"].isdigit():
        fields["suite_id"] = int(fields["suite_id"])  # an id read from settings is text
    check_fields(Suite, fields)
    if "aes_key" in fields and not _AES_KEY.fullmatch(fields["aes_key"]):
        raise ControlError(400, "aes_key must be 43 letters and digits (EncodingAESKey)")
    if fields.get("push_style", "http") not in ("http", "sync_http"):
        raise ControlError(400, "push_style must be http or sync_http")
    if fields.get("message_api", "asyncsend_v2") not in ("asyncsend_v2", "sendbytemplate"):
        raise ControlError(400, "message_api must be asyncsend_v2 or sendbytemplate")
    suite = ctx.emulator.state.create_suite(**fields)
    return asdict(suite)


@control("/_emulator/suites/<suite_key>", methods=("GET",))
def suite_get(ctx: ControlContext, suite_key: str) -> dict:
    return asdict(_suite(ctx, suite_key))


@control("/_emulator/suites/<suite_key>/ticket", methods=("GET", "POST"))
def ticket(ctx: ControlContext, suite_key: str) -> dict:
    """GET reads the current ticket; POST rotates it (the old one is superseded) and pushes it."""
    suite = _suite(ctx, suite_key)
    if ctx.request.method == "POST":
        value = ctx.emulator.state.rotate_ticket(suite_key)
        _notify(ctx, "suite_ticket", suite_key, ticket=value)
    return {"suite_key": suite_key, "ticket": suite.ticket, "ticket_ms": suite.ticket_ms}


def _scope(ctx: ControlContext, corp) -> dict:
    """authed_dept / authed_user / auth_user_field as given, checked against the corp."""
    scope = {k: ctx.body[k] for k in ("authed_dept", "authed_user", "auth_user_field")
             if ctx.body.get(k) is not None}
    unknown = [d for d in int_list(scope.get("authed_dept", []), "authed_dept")
               if d not in corp.depts]
    unknown += [u for u in str_list(scope.get("authed_user", []), "authed_user")
                if u not in corp.users]
    str_list(scope.get("auth_user_field", []), "auth_user_field")
    if unknown:
        raise ControlError(400, f"not in the corp: {unknown}")
    return scope


def _auth_view(state, record) -> dict:
    return {**asdict(record), "auth_info": auth_info(state, state.suites[record.suite_key],
                                                     record)}


@control("/_emulator/suites/<suite_key>/authorize")
def authorize(ctx: ControlContext, suite_key: str) -> dict:
    suite = _suite(ctx, suite_key)
    state = ctx.emulator.state
    corp = _corp(ctx, ctx.require("corp_id"))
    scope = _scope(ctx, corp)
    activated, admin = ctx.arg("activated"), ctx.arg("admin_userid")
    if not isinstance(activated, bool | None) or not isinstance(admin, str | None):
        raise ControlError(400, "activated must be true/false and admin_userid a string")
    record, code = state.authorize(
        suite_key=suite_key, corp_id=corp.corp_id, authed_dept=scope.get("authed_dept"),
        authed_user=scope.get("authed_user"), admin_userid=admin,
        activated=suite.push_style == "sync_http" if activated is None else activated)
    _notify(ctx, "auth", suite_key, corp.corp_id, tmp_auth_code=code.code,
            permanent_code=record.permanent_code)
    return {**_auth_view(state, record), "tmp_auth_code": code.code}


@control("/_emulator/suites/<suite_key>/change_auth")
def change_auth(ctx: ControlContext, suite_key: str) -> dict:
    _suite(ctx, suite_key)
    state = ctx.emulator.state
    corp = _corp(ctx, ctx.require("corp_id"))
    push = ctx.arg("push", "change_auth")
    if push not in ("change_auth", "scope_update", "none"):
        raise ControlError(400, "push must be change_auth, scope_update or none")
    record = state.change_auth(suite_key=suite_key, corp_id=corp.corp_id, **_scope(ctx, corp))
    if push == "change_auth":  # biz_type 4 org_suite_change / HTTP change_auth
        _notify(ctx, "change_auth", suite_key, record.corp_id)
    elif push == "scope_update":  # biz_type 7 org_micro_app_scope_update (KB-EV/0197)
        _notify(ctx, "app_state", suite_key, record.corp_id, action="scope_update",
                agent_id=record.agent_id, app_id=record.app_id,
                authed_dept=list(record.authed_dept), authed_user=list(record.authed_user))
    return _auth_view(state, record)


@control("/_emulator/suites/<suite_key>/relieve")
def relieve(ctx: ControlContext, suite_key: str) -> dict:
    _suite(ctx, suite_key)
    record = ctx.emulator.state.relieve(suite_key=suite_key, corp_id=ctx.require("corp_id"))
    _notify(ctx, "relieve", suite_key, record.corp_id)
    return asdict(record)


@control("/_emulator/suites/<suite_key>/auths/<corp_id>", methods=("GET",))
def auth_get(ctx: ControlContext, suite_key: str, corp_id: str) -> dict:
    state = ctx.emulator.state
    record = state.auths.get((suite_key, corp_id))
    if record is None:
        raise ControlError(404, f"{corp_id} never authorised {suite_key}")
    return _auth_view(state, record)


@control("/_emulator/suites/<suite_key>/app_state")
def app_state(ctx: ControlContext, suite_key: str) -> dict:
    """action stop | restore | remove: the app in one corp (org_micro_app_* pushes)."""
    _suite(ctx, suite_key)
    action = ctx.require("action")
    states = {"stop": "stopped", "restore": "normal", "remove": "removed"}
    if action not in states:
        raise ControlError(400, "action must be stop, restore or remove")
    state = ctx.emulator.state
    with state.lock:
        record = state.active_auth(suite_key, ctx.require("corp_id"))
        if record is None:
            raise ControlError(404, "the corp has not authorised the suite")
        record.app_state = states[action]
    _notify(ctx, "app_state", suite_key, record.corp_id, action=action,
            agent_id=record.agent_id, app_id=record.app_id)
    return asdict(record)


@control("/_emulator/faults", methods=("GET", "POST", "DELETE"))
def faults(ctx: ControlContext):
    emulator = ctx.emulator
    if ctx.request.method == "POST":
        return asdict(emulator.faults.add(**ctx.body))
    if ctx.request.method == "DELETE":
        emulator.faults.clear()
    return emulator.faults.snapshot()


@control("/_emulator/tokens/expire")
def tokens_expire(ctx: ControlContext) -> dict:
    count = ctx.emulator.state.expire_tokens(
        corp_id=ctx.arg("corp_id"), appkey=ctx.arg("appkey"), suite_key=ctx.arg("suite_key"),
        kind=ctx.arg("kind"))
    return {"expired": count}


@control("/_emulator/counters", methods=("GET", "DELETE"))
def counters(ctx: ControlContext) -> dict:
    if ctx.request.method == "DELETE":
        ctx.emulator.counters.reset()
    return ctx.emulator.counters.snapshot()


@control("/_emulator/counters/reset")
def counters_reset(ctx: ControlContext) -> dict:
    ctx.emulator.counters.reset()
    return ctx.emulator.counters.snapshot()


@control("/_emulator/state/save")
def state_save(ctx: ControlContext) -> dict:
    from ..persist import save

    path = ctx.arg("path") or getattr(ctx.emulator, "state_file", None)
    if not path:
        raise ControlError(400, "no path given and no --state-file configured")
    save(ctx.emulator, path)
    return {"saved": path}
