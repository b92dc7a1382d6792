"""The WSGI application: routing, auth, faults, rate limits, counters and DingTalk-shaped errors."""

import copy
import importlib
import json
import logging
import secrets
import socket
import time

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import registry
from .answers import DropConnection, RawAnswer
from .auth import authenticate, peek_caller
from .clock import Clock
from .codes import ApiFail, errmsg
from .config import EmulatorConfig
from .context import CallContext, ControlContext, ControlError
from .counters import Counters
from .faults import THROTTLE_ERRCODES, Faults
from .newapi import NewApiDispatcher
from .pushes import Pusher
from .ratelimit import RateLimiter
from .state import State

log = logging.getLogger("dingtalk.emulator")

HANDLER_MODULES = (
    "dingtalk.emulator.handlers.tokens",
    "dingtalk.emulator.handlers.service",
    "dingtalk.emulator.handlers.contacts_v1",
    "dingtalk.emulator.handlers.contacts_v2",
    "dingtalk.emulator.handlers.chat",
    "dingtalk.emulator.handlers.media",
    "dingtalk.emulator.handlers.control",
    "dingtalk.emulator.handlers.control_org",
    "dingtalk.emulator.handlers.sso",
    "dingtalk.emulator.handlers.sso_admin",
    "dingtalk.emulator.handlers.jsapi",
    "dingtalk.emulator.market",
    "dingtalk.emulator.notices",
    "dingtalk.emulator.pushes",
)
_STATUS = {200: "200 OK", 404: "404 NOT FOUND"}
_JSON = "application/json;charset=UTF-8"


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


class Emulator:
    """The whole emulated DingTalk: state, clock, config, counters, faults and the WSGI app."""

    def __init__(self, config: EmulatorConfig | None = None, *, fixture: dict | None = None):
        load_handlers()
        self.initial_config = copy.deepcopy(config or EmulatorConfig())
        self.fixture = fixture
        self.state_file: str | None = None
        self.clock = Clock()
        self.counters = Counters()
        self.limiter = RateLimiter()
        self.config = copy.deepcopy(self.initial_config)
        self.state = State(self.clock, self.config)
        self.faults = Faults(self.config.seed)
        self.api_map = Map([Rule(r.path, endpoint=r.path) for r in registry.API_ROUTES.values()])
        # Bound once: bind_to_environ per call rebuilds URLs and costs a third of a request.
        self.api_adapter = self.api_map.bind("oapi.dingtalk.com")
        self.control_map = Map([Rule(r.rule, endpoint=r, methods=list(r.methods))
                                for r in registry.CONTROL_ROUTES])
        # api.dingtalk.com's /v1.0/ paths, served on the same port (PROTOCOL 1.2).
        self.new_api = NewApiDispatcher(self)
        self.pusher = Pusher(self)
        if fixture:
            from .fixtures import apply_fixture

            apply_fixture(self, fixture)

    def reset(self, *, seed: int | None = None, config: dict | None = None) -> None:
        """Back to the start: empty world (plus the fixture), default config, clock at real time."""
        fresh = copy.deepcopy(self.initial_config)
        if seed is not None:
            fresh.update({"seed": seed})
        if config:
            fresh.update(config)  # a bad config refuses the reset before anything changes
        with self.state.lock:
            self.config = fresh
            self.clock.reset()
            self.state = State(self.clock, self.config)
            self.faults = Faults(self.config.seed)
            self.counters.reset()
            self.pusher.reset()
            if self.fixture:
                from .fixtures import apply_fixture

                apply_fixture(self, self.fixture)

    # ---- WSGI ---------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        content_type = _JSON
        try:
            path = request.path
            if path.startswith("/_emulator/"):
                status, data = self.dispatch_control(request)
            elif path.startswith("/v1.0/"):
                status, data = self.new_api.dispatch(request)
            else:
                status, data = self.dispatch_api(request)
        except DropConnection:
            _drop(environ)
            status, data = 500, b""
        except RawAnswer as raw:
            status, data, content_type = raw.status, raw.body, "text/html; charset=utf-8"
        # A bare start_response: a werkzeug Response object costs ~15% of a cheap call.
        start_response(_STATUS.get(status) or f"{status} {HTTP_STATUS_CODES.get(status, '')}", [
            ("Content-Type", content_type), ("Content-Length", str(len(data))),
            ("Server", "DingTalk/1.0.0")])
        return [data]

    def dispatch_control(self, request: Request) -> tuple[int, bytes]:
        adapter = self.control_map.bind_to_environ(request.environ)
        try:
            route, args = adapter.match()
            body = json.loads(request.get_data() or b"{}") if request.method != "GET" else {}
            if not isinstance(body, dict):
                raise ControlError(400, "the body must be a JSON object")
            result = route.handler(ControlContext(self, request, body), **args)
            return _json(result, 200)
        except (MethodNotAllowed, NotFound) as exc:
            return _json({"error": exc.name}, exc.code or 404)
        except ControlError as exc:
            return _json({"error": exc.message}, exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)
        except HTTPException as exc:
            return _json({"error": exc.name}, exc.code or 400)
        except Exception:
            # Still JSON and no traceback to the client; the log has it.
            log.exception("emulator control route failed: %s", request.path)
            return _json({"error": "internal error (see the emulator log)"}, 500)

    def dispatch_api(self, request: Request) -> tuple[int, bytes]:
        epoch = self.counters.epoch
        # Every API rule is a fixed path: a dict hit skips the router (a tenth of a cheap call).
        route = registry.API_ROUTES.get(request.path)
        if route is None:
            try:
                path, _ = self.api_adapter.match(request.path, method=request.method)
            except HTTPException:
                body = {"errcode": 404, "errmsg": errmsg(404)}
                return _json(body, 404)
            route = registry.API_ROUTES[path]
        ctx: CallContext | None = None
        try:
            ctx = CallContext(self, request, route, {})
            if request.method not in (route.method, "HEAD" if route.method == "GET" else ""):
                raise ApiFail(43001 if route.method == "GET" else 43002)
            body, status = self._run(ctx)
        except ApiFail as fail:
            body, status = _fail_body(fail, route.topapi), fail.http_status
        except (DropConnection, RawAnswer):
            self._count(route.endpoint, ctx, None, epoch)
            raise
        except Exception:
            log.exception("emulator handler failed: %s", route.endpoint)
            body, status = {"errcode": -1, "errmsg": errmsg(-1)}, 200
        if route.topapi and "request_id" not in body:
            body["request_id"] = secrets.token_hex(6)
        self._count(route.endpoint, ctx, body.get("errcode"), epoch)
        return _json(body, status)

    def _run(self, ctx: CallContext) -> tuple[dict, int]:
        from .context import parse_body

        ctx.body = parse_body(ctx.request)
        ctx.params = {**ctx.query, **ctx.body}
        ctx.caller = peek_caller(ctx)
        fault = self.faults.pick(ctx.endpoint, ctx.caller.corp_id if ctx.caller else None)
        if fault is not None:
            early = self._apply_fault(ctx, fault)
            if early is not None:
                return early
        ctx.caller = authenticate(ctx)
        self._rate_limit(ctx)
        result = ctx.route.handler(ctx) or {}
        if fault is not None and fault.drop_after:
            raise DropConnection
        return {"errcode": 0, "errmsg": "ok", **result}, 200

    def _apply_fault(self, ctx: CallContext, fault) -> tuple[dict, int] | None:
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000.0)
        if fault.drop:
            raise DropConnection
        if fault.expire_token and ctx.caller is not None:
            kind = "suite" if ctx.caller.kind == "suite" else None
            token = ctx.query.get("access_token") or ctx.query.get("suite_access_token")
            entry = self.state.tokens.get(token or "")
            if entry is not None and (kind is None or entry.kind == kind):
                entry.expires_ms = min(entry.expires_ms, self.clock.now_ms())
        if fault.raw_body is not None:
            raise RawAnswer(fault.raw_body.encode(), fault.http_status or 200)
        if fault.ip_ban:
            # DingTalk's gateway answers a banned IP with this body and no errcode (PROTOCOL 10).
            return {"status": 1111, "wait": 5, "source": "x5", "punish": "deny",
                    "uuid": secrets.token_hex(8)}, 200
        if fault.http_status:
            return {"errcode": -1, "errmsg": errmsg(-1)}, fault.http_status
        code = THROTTLE_ERRCODES.get(fault.throttle or "") or fault.errcode
        if code is not None:
            extra = {k: v for k, v in (("sub_code", fault.sub_code), ("sub_msg", fault.sub_msg))
                     if v is not None}
            raise ApiFail(code, fault.errmsg, extra=extra)
        return None

    def _rate_limit(self, ctx: CallContext) -> None:
        if not self.config.rate_limits_enabled:
            return
        caller = ctx.caller
        owner = None
        if caller is not None:
            owner = caller.appkey or caller.suite_key or caller.corp_id
        code = self.limiter.check(owner=owner, endpoint=ctx.endpoint,
                                  app_qps=self.config.app_api_qps,
                                  global_qps=self.config.global_api_qps)
        if code is not None:
            raise ApiFail(code)

    def _count(self, endpoint: str, ctx: CallContext | None, errcode, epoch: int) -> None:
        caller = ctx.caller if ctx is not None else None
        self.counters.call(
            endpoint, corp_id=caller.corp_id if caller else None,
            suite_key=caller.suite_key if caller else None,
            appkey=caller.appkey if caller else None,
            errcode=errcode if errcode else None, epoch=epoch)


def _fail_body(fail: ApiFail, topapi: bool) -> dict:
    body = {"errcode": fail.errcode, "errmsg": fail.errmsg, **fail.extra}
    if topapi:
        body["request_id"] = secrets.token_hex(6)
    return body


def _json(value, status: int) -> tuple[int, bytes]:
    return status, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _drop(environ) -> None:
    sock = (environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
            or environ.get("dingtalk.socket"))
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        log.debug("socket already closed")
