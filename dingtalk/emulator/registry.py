"""Route registration: `@api(...)` for oapi endpoints, `@new_api(...)` for api.dingtalk.com's
/v1.0/ endpoints, `@control(...)` for /_emulator/."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiRoute:
    path: str  # "/user/get"
    method: str  # "GET" or "POST"
    auth: str  # "corp" (access_token), "suite" (suite_access_token) or "none"
    handler: Callable

    @property
    def endpoint(self) -> str:
        return self.path.lstrip("/")

    @property
    def topapi(self) -> bool:
        return self.path.startswith("/topapi/")


@dataclass(frozen=True)
class ControlRoute:
    rule: str  # a werkzeug rule: "/_emulator/corps/<corp_id>"
    methods: tuple[str, ...]
    handler: Callable


@dataclass(frozen=True)
class NewApiRoute:
    """An api.dingtalk.com endpoint: `rule` is a werkzeug rule ("/v1.0/appMarket/orders/
    <orderId>"); `endpoint` names it with {param} for counters and faults."""

    rule: str
    method: str
    auth: str  # "suite" (a suite access token), "corp" (a corp or app token) or "none"
    handler: Callable

    @property
    def endpoint(self) -> str:
        return self.rule.lstrip("/").replace("<", "{").replace(">", "}")


API_ROUTES: dict[str, ApiRoute] = {}
CONTROL_ROUTES: list[ControlRoute] = []
NEW_API_ROUTES: list[NewApiRoute] = []


def api(path: str, *, method: str = "GET", auth: str = "corp") -> Callable:
    """Register handler(ctx: CallContext) -> dict as a DingTalk endpoint."""
    if auth not in ("corp", "suite", "none"):
        raise ValueError(auth)

    def register(handler: Callable) -> Callable:
        API_ROUTES[path] = ApiRoute(path=path, method=method, auth=auth, handler=handler)
        return handler

    return register


def control(rule: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Register handler(ctx: ControlContext, **url_args) -> JSON value under /_emulator/."""

    def register(handler: Callable) -> Callable:
        CONTROL_ROUTES.append(ControlRoute(rule=rule, methods=methods, handler=handler))
        return handler

    return register


def new_api(rule: str, *, method: str = "GET", auth: str = "suite") -> Callable:
    """Register handler(ctx: NewApiContext, **path_params) -> dict as a /v1.0/ endpoint."""
    if auth not in ("corp", "suite", "none") or not rule.startswith("/v1.0/"):
        raise ValueError(rule)

    def register(handler: Callable) -> Callable:
        NEW_API_ROUTES.append(NewApiRoute(rule=rule, method=method, auth=auth, handler=handler))
        return handler

    return register
