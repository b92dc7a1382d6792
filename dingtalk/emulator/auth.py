"""Authenticating a call: access tokens, suite tokens and the accessKey signature scheme."""

import base64
import hashlib
import hmac

from .codes import ApiFail
from .context import CallContext, Caller
from .models import Suite, Token


def peek_caller(ctx: CallContext) -> Caller | None:
    """The caller a token names, without judging it (fault matching needs the corp early)."""
    name = "suite_access_token" if ctx.route.auth == "suite" else "access_token"
    value = ctx.query.get(name) or _form_token(ctx, name)
    token = ctx.state.tokens.get(value) if value else None
    return caller_for(ctx, token) if token is not None else None


def _form_token(ctx: CallContext, name: str) -> str | None:
    # PROTOCOL 1.1: the doc's curl examples put access_token in a form body.
    if ctx.request.mimetype == "application/x-www-form-urlencoded":
        value = ctx.body.get(name)
        return str(value) if value else None
    return None


def caller_for(ctx: CallContext, token: Token) -> Caller:
    state = ctx.state
    if token.kind == "app":
        app = state.apps.get(token.owner)
        return Caller(kind="app", corp_id=token.corp_id, appkey=token.owner,
                      agent_id=app.agent_id if app else None)
    if token.kind == "suite_corp":
        record = state.auths.get((token.owner, token.corp_id or ""))
        return Caller(kind="suite_corp", corp_id=token.corp_id, suite_key=token.owner,
                      agent_id=record.agent_id if record else None)
    if token.kind == "suite":
        return Caller(kind="suite", corp_id=None, suite_key=token.owner)
    return Caller(kind="corpsecret", corp_id=token.corp_id)


def authenticate(ctx: CallContext) -> Caller | None:
    """PROTOCOL 11 order: missing 41001, unknown 40014, expired 40014 (or as configured)."""
    if ctx.route.auth == "none":
        return None
    suite_level = ctx.route.auth == "suite"
    name = "suite_access_token" if suite_level else "access_token"
    value = ctx.query.get(name) or _form_token(ctx, name)
    if not value:
        raise ApiFail(41001)
    with ctx.state.lock:
        token = ctx.state.tokens.get(value)
        if token is None or (token.kind == "suite") != suite_level:
            raise ApiFail(40014)
        if token.expires_ms <= ctx.clock.now_ms():
            raise ApiFail(ctx.config.expired_token_errcode)
        if token.kind == "suite_corp":
            record = ctx.state.auths.get((token.owner, token.corp_id or ""))
            stopped = ctx.config.stopped_app_errcode
            if stopped and record is not None and record.app_state != "normal":
                raise ApiFail(stopped)
        return caller_for(ctx, token)


def sign(secret: str, timestamp: str, ticket: str | None) -> str:
    message = timestamp if ticket is None else f"{timestamp}\n{ticket}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_signature(ctx: CallContext) -> Suite:
    """The accessKey/timestamp/suiteTicket/signature scheme (PROTOCOL 6.6).

    The +-60 s window is judged against the host's REAL clock, not the emulated one: the
    signing ISV runs on real time, and tests that advance the emulated clock must still sign.
    """
    q = ctx.query
    timestamp = q.get("timestamp", "")
    if not timestamp.isdigit():
        raise ApiFail(853001)
    if abs(int(timestamp) - ctx.clock.real_ms()) > ctx.config.signature_window_s * 1000:
        raise ApiFail(853002)
    suite = ctx.state.suites.get(q.get("accessKey", ""))
    if suite is None:
        raise ApiFail(853003)
    ticket = q.get("suiteTicket")
    expected = sign(suite.suite_secret, timestamp, ticket)
    if not hmac.compare_digest(expected.encode(), q.get("signature", "").encode()):
        raise ApiFail(853004)
    if not ctx.state.ticket_ok(suite, ticket):
        raise ApiFail(ctx.config.stale_ticket_errcode)
    return suite
