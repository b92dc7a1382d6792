"""The new API (api.dingtalk.com) on the emulator's port: /v1.0/ routes, the header token and
HTTP-status errors `{"code","message","requestid"}` (PROTOCOL 1.2)."""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import registry
from .answers import DropConnection, RawAnswer
from .auth import caller_for
from .context import Caller
from .faults import THROTTLE_ERRCODES
from .registry import NewApiRoute

if TYPE_CHECKING:
    from .app import Emulator

log = logging.getLogger("dingtalk.emulator")

TOKEN_HEADER = "x-acs-dingtalk-access-token"  # noqa: S105 (a header name)
# The gateway's answers (PROTOCOL 1.2; the 404 wording is the Alibaba Cloud gateway's).
_NOT_FOUND = (404, "InvalidAction.NotFound",
              "Specified api is not found, please check your url and method.")
_BAD_TOKEN = (400, "InvalidAuthentication", "不合法的access_token")
_QPS = (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "调用频率超过限制")
_BUSY = "systemBusy"


class NewApiFail(Exception):  # noqa: N818  (a DingTalk answer, not a Python error)
    """Raised by a /v1.0/ handler: answer HTTP `status` with `{"code","message","requestid"}`."""

    def __init__(self, status: int, code: str, message: str = ""):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message or code


class NewApiContext:
    """One /v1.0/ call: the request, its JSON body, path parameters and the token's caller."""

    def __init__(self, emulator: Emulator, request: Request, route: NewApiRoute):
        self.emulator = emulator
        self.state = emulator.state
        self.clock = emulator.clock
        self.config = emulator.config
        self.request = request
        self.route = route
        self.query = request.args.to_dict()
        self.body: dict[str, Any] = {}
        self.caller: Caller | None = None


class NewApiDispatcher:
    """Routes /v1.0/ requests of the Emulator's WSGI app; answers (status, JSON bytes)."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        rules = [Rule(r.rule, endpoint=r, methods=[r.method]) for r in registry.NEW_API_ROUTES]
        self.adapter = Map(rules).bind("api.dingtalk.com")

    def dispatch(self, request: Request) -> tuple[int, bytes]:
        epoch = self.emulator.counters.epoch
        try:
            route, args = self.adapter.match(request.path, method=request.method)
        except HTTPException:
            return _answer(*_NOT_FOUND)
        ctx = NewApiContext(self.emulator, request, route)
        code: str | None = None
        try:
            body, status = self._run(ctx, args), 200
        except NewApiFail as fail:
            code = fail.code
            return _answer(fail.status, fail.code, fail.message)
        except (DropConnection, RawAnswer):
            code = "dropped"
            raise
        except Exception:
            log.exception("emulator handler failed: %s", route.endpoint)
            code = "InternalError"
            return _answer(500, code, "系统错误")
        finally:
            self._count(route, ctx, code, epoch)
        return status, _dumps(body)

    def _run(self, ctx: NewApiContext, args: dict[str, str]) -> dict:
        ctx.body = _json_body(ctx.request)
        token = ctx.state.tokens.get(ctx.request.headers.get(TOKEN_HEADER, ""))
        corp_id = token.corp_id if token is not None else None
        fault = self.emulator.faults.pick(ctx.route.endpoint, corp_id)
        if fault is not None:
            _apply_fault(ctx, fault, token)
        ctx.caller = self._authenticate(ctx)
        self._rate_limit(ctx)
        result = ctx.route.handler(ctx, **args)
        if fault is not None and fault.drop_after:
            raise DropConnection
        return result if result is not None else {}

    def _authenticate(self, ctx: NewApiContext) -> Caller | None:
        if ctx.route.auth == "none":
            return None
        value = ctx.request.headers.get(TOKEN_HEADER, "")
        with ctx.state.lock:
            token = ctx.state.tokens.get(value) if value else None
            if token is None or token.expires_ms <= ctx.clock.now_ms():
                raise NewApiFail(*_BAD_TOKEN)
            if (token.kind == "suite") != (ctx.route.auth == "suite"):
                raise NewApiFail(*_BAD_TOKEN)
            return caller_for(ctx, token)  # type: ignore[arg-type]  (reads ctx.state only)

    def _rate_limit(self, ctx: NewApiContext) -> None:
        config = self.emulator.config
        if not config.rate_limits_enabled:
            return
        caller = ctx.caller
        owner = (caller.appkey or caller.suite_key or caller.corp_id) if caller else None
        if self.emulator.limiter.check(owner=owner, endpoint=ctx.route.endpoint,
                                       app_qps=config.app_api_qps,
                                       global_qps=config.global_api_qps) is not None:
            raise NewApiFail(*_QPS)

    def _count(self, route: NewApiRoute, ctx: NewApiContext, code: str | None,
               epoch: int) -> None:
        caller = ctx.caller
        self.emulator.counters.call(
            route.endpoint, corp_id=caller.corp_id if caller else None,
            suite_key=caller.suite_key if caller else None,
            appkey=caller.appkey if caller else None, errcode=code, epoch=epoch)


def _apply_fault(ctx: NewApiContext, fault, token) -> None:
    """The oapi fault rules, answered the new API's way: an HTTP status with a string code
    (`sub_code`, else systemBusy), a throttle as the gateway's 403."""
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000.0)
    if fault.drop:
        raise DropConnection
    if fault.expire_token and token is not None:
        token.expires_ms = min(token.expires_ms, ctx.clock.now_ms())
    if fault.raw_body is not None:
        raise RawAnswer(fault.raw_body.encode(), fault.http_status or 200)
    if fault.throttle in THROTTLE_ERRCODES:
        raise NewApiFail(*_QPS)
    if fault.http_status:
        raise NewApiFail(fault.http_status, fault.sub_code or _BUSY, fault.errmsg or "系统繁忙")
    if fault.sub_code:
        raise NewApiFail(400, fault.sub_code, fault.errmsg or fault.sub_code)


def _json_body(request: Request) -> dict:
    if request.method not in ("POST", "PUT"):
        return {}
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        # PROTOCOL 1.2: a form-encoded (or no) body is refused as "body is mandatory".
        raise NewApiFail(400, "MissingParameter", "body is mandatory")
    return body


def _answer(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, _dumps({"code": code, "message": message,
                           "requestid": str(uuid.UUID(bytes=secrets.token_bytes(16))).upper()})


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
