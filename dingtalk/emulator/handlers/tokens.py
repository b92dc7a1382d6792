"""gettoken (internal apps, legacy corpsecret) and service/get_suite_token."""

import hmac

from ..codes import ApiFail
from ..context import CallContext, Caller
from ..registry import api


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@api("/gettoken", method="GET", auth="none")
def gettoken(ctx: CallContext) -> dict:
    """appkey/appsecret, or the legacy corpid/corpsecret; the same token until it expires."""
    state = ctx.state
    appkey, corpid = ctx.get("appkey"), ctx.get("corpid")
    with state.lock:
        if appkey:
            app = state.apps.get(str(appkey))
            if app is None or not _same(app.appsecret, str(ctx.get("appsecret", ""))):
                raise ApiFail(40089)
            ctx.caller = Caller(kind="app", corp_id=app.corp_id, appkey=app.appkey,
                                agent_id=app.agent_id)
            token = state.app_token(kind="app", owner=app.appkey, corp_id=app.corp_id)
            ctx.emulator.counters.token_fetch("gettoken", app.appkey)
        elif corpid:
            corp = state.corps.get(str(corpid))
            if corp is None or not _same(corp.corpsecret, str(ctx.get("corpsecret", ""))):
                raise ApiFail(40089)
            ctx.caller = Caller(kind="corpsecret", corp_id=corp.corp_id)
            token = state.app_token(kind="corpsecret", owner=corp.corp_id, corp_id=corp.corp_id)
            ctx.emulator.counters.token_fetch("gettoken", corp.corp_id)
        else:
            raise ApiFail(40035)
    return {"access_token": token.value, "expires_in": ctx.config.token_ttl_s}


@api("/service/get_suite_token", method="POST", auth="none")
def get_suite_token(ctx: CallContext) -> dict:
    """suite_key + suite_secret + the current suite_ticket -> suite_access_token."""
    suite_key = ctx.require_str("suite_key", errcode=41021)
    secret = ctx.require_str("suite_secret", errcode=41024)
    ticket = ctx.require_str("suite_ticket", errcode=41023)
    state = ctx.state
    with state.lock:
        suite = state.suites.get(suite_key)
        if suite is None:
            raise ApiFail(40088)
        ctx.caller = Caller(kind="suite", corp_id=None, suite_key=suite.suite_key)
        if not _same(suite.suite_secret, secret):
            raise ApiFail(40080)
        if not state.ticket_ok(suite, ticket):
            raise ApiFail(40085)
        token = state.app_token(kind="suite", owner=suite.suite_key, corp_id=None)
        ctx.emulator.counters.token_fetch("get_suite_token", suite.suite_key)
    return {"suite_access_token": token.value, "expires_in": ctx.config.token_ttl_s}
