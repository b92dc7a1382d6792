"""ISV service/* endpoints: permanent codes, activation, corp tokens, auth info, agents."""

import hmac

from ..auth import check_signature
from ..auth_info import auth_info
from ..codes import ApiFail
from ..context import CallContext, Caller
from ..models import AuthRecord, Suite, TmpAuthCode
from ..pushes import PushEvent
from ..registry import api
from ..state import _random_string


def _suite_caller(ctx: CallContext) -> Suite:
    """Legacy ?suite_access_token=, or the accessKey signature scheme when it is absent."""
    state = ctx.state
    value = ctx.query.get("suite_access_token")
    if value:
        token = state.tokens.get(value)
        if token is None or token.kind != "suite":
            raise ApiFail(40014)
        if token.expires_ms <= ctx.clock.now_ms():
            raise ApiFail(ctx.config.expired_token_errcode)
        suite = state.suites[token.owner]
    elif ctx.query.get("accessKey") or ctx.query.get("signature"):
        suite = check_signature(ctx)
    else:
        raise ApiFail(41001)
    ctx.caller = Caller(kind="suite", corp_id=None, suite_key=suite.suite_key)
    return suite


def _record(ctx: CallContext, suite: Suite, *, errcode: int = 40079) -> AuthRecord:
    corp_id = ctx.require_str("auth_corpid", errcode=41027)
    record = ctx.state.active_auth(suite.suite_key, corp_id)
    if record is None:
        raise ApiFail(errcode)
    return record


def _check_permanent_code(ctx: CallContext, record: AuthRecord, *, required: bool) -> None:
    code = ctx.get("permanent_code")
    if not code:
        if required:
            raise ApiFail(41025)
        return
    if not hmac.compare_digest(str(code).encode(), record.permanent_code.encode()):
        raise ApiFail(41031)


@api("/service/get_permanent_code", method="POST", auth="suite")
def get_permanent_code(ctx: CallContext) -> dict:
    """A tmp_auth_code is good for one exchange (40078 unknown, 42008 already used)."""
    code = ctx.require_str("tmp_auth_code", errcode=41026)
    state = ctx.state
    with state.lock:
        tmp = state.tmp_codes.get(code)
        if tmp is None or tmp.suite_key != ctx.caller.suite_key:
            raise ApiFail(40078)
        if tmp.used:
            raise ApiFail(42008)
        record = state.active_auth(tmp.suite_key, tmp.corp_id)
        if record is None:
            raise ApiFail(40078)
        tmp.used = True
        corp = state.corps[tmp.corp_id]
        return {"permanent_code": record.permanent_code, "ch_permanent_code": "",
                "auth_corp_info": {"corpid": corp.corp_id, "corp_name": corp.name}}


@api("/service/activate_suite", method="POST", auth="suite")
def activate_suite(ctx: CallContext) -> dict:
    suite_key = ctx.require_str("suite_key", errcode=41021)
    if suite_key != ctx.caller.suite_key:
        raise ApiFail(40083)
    with ctx.state.lock:
        record = _record(ctx, ctx.state.suites[suite_key], errcode=41030)
        _check_permanent_code(ctx, record, required=True)
        record.activated = True
    return {}


@api("/service/get_corp_token", method="POST", auth="none")
def get_corp_token(ctx: CallContext) -> dict:
    """Both forms; every call issues a new token (older ones stay valid, configurable)."""
    legacy = bool(ctx.query.get("suite_access_token"))
    suite = _suite_caller(ctx)
    with ctx.state.lock:
        record = _record(ctx, suite)
        ctx.caller = Caller(kind="suite", corp_id=record.corp_id, suite_key=suite.suite_key)
        if legacy:
            _check_permanent_code(ctx, record, required=True)
        token = ctx.state.suite_corp_token(suite_key=suite.suite_key, corp_id=record.corp_id)
        ctx.emulator.counters.token_fetch("get_corp_token", f"{suite.suite_key}:{record.corp_id}")
    return {"access_token": token.value, "expires_in": ctx.config.token_ttl_s}


@api("/service/get_auth_info", method="POST", auth="none")
def get_auth_info(ctx: CallContext) -> dict:
    suite = _suite_caller(ctx)
    with ctx.state.lock:
        key = ctx.get("suite_key")
        if key and key != suite.suite_key:
            raise ApiFail(40083)
        record = _record(ctx, suite)
        _check_permanent_code(ctx, record, required=False)
        return auth_info(ctx.state, suite, record)


@api("/service/get_agent", method="POST", auth="none")
def get_agent(ctx: CallContext) -> dict:
    """close: 0 disabled, 1 normal, 2 awaiting activation (legacy HTTP-push flow)."""
    suite = _suite_caller(ctx)
    agent_id = ctx.int_arg("agentid")
    with ctx.state.lock:
        record = _record(ctx, suite)
        _check_permanent_code(ctx, record, required=False)
        if agent_id != record.agent_id:
            raise ApiFail(ctx.config.foreign_agent_errcode)
        if record.app_state != "normal":
            close = 0
        else:
            close = 1 if record.activated else 2
    return {"agentid": record.agent_id, "name": suite.name, "logo_url": "",
            "description": suite.name, "close": close}


@api("/service/get_unactive_corp", method="POST", auth="suite")
def get_unactive_corp(ctx: CallContext) -> dict:
    suite_key = ctx.caller.suite_key
    with ctx.state.lock:
        corps = [r.corp_id for r in ctx.state.auths.values()
                 if r.suite_key == suite_key and r.active and not r.activated]
        app_ids = {r.app_id for r in ctx.state.auths.values() if r.suite_key == suite_key}
    app_id = ctx.int_arg("app_id")
    if app_ids and app_id not in app_ids:
        raise ApiFail(40086)
    return {"app_id": app_id, "corp_list": sorted(corps), "has_more": False}


@api("/service/reauth_corp", method="POST", auth="suite")
def reauth_corp(ctx: CallContext) -> dict:
    """Re-push the authorisation of the listed corps (a new tmp code for HTTP-push suites)."""
    app_id = ctx.int_arg("app_id")
    corp_ids = ctx.get("corpid_list")
    if not isinstance(corp_ids, list) or not corp_ids:
        raise ctx.bad_param()
    suite_key = ctx.caller.suite_key
    events = []
    with ctx.state.lock:
        for corp_id in corp_ids:
            record = ctx.state.active_auth(suite_key, str(corp_id))
            if record is None or record.app_id != app_id:
                continue
            code = TmpAuthCode(code=_random_string(32), suite_key=suite_key,
                               corp_id=record.corp_id, issued_ms=ctx.clock.now_ms())
            ctx.state.tmp_codes[code.code] = code
            events.append(PushEvent(kind="auth", suite_key=suite_key, corp_id=record.corp_id,
                                    data={"tmp_auth_code": code.code,
                                          "permanent_code": record.permanent_code}))
    for event in events:
        ctx.emulator.pusher.notify(event)
    return {}


@api("/service/set_corp_ipwhitelist", method="POST", auth="suite")
def set_corp_ipwhitelist(ctx: CallContext) -> dict:
    """Accepted and checked for shape; the emulator does not enforce IP whitelists (60020)."""
    whitelist = ctx.get("ip_whitelist")
    if not isinstance(whitelist, list):
        raise ctx.bad_param()
    with ctx.state.lock:
        _record(ctx, ctx.state.suites[ctx.caller.suite_key])
    return {}
