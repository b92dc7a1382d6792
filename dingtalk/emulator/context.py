"""What a handler receives: the parsed request, the authenticated caller, and helpers."""

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from .codes import ApiFail
from .models import AuthRecord, Corp, User
from .registry import ApiRoute

if TYPE_CHECKING:
    from .app import Emulator


@dataclass(frozen=True)
class Caller:
    """Who holds the token: an internal app, a legacy corpsecret, a suite in a corp, a suite."""

    kind: str  # "app", "corpsecret", "suite_corp" or "suite"
    corp_id: str | None
    appkey: str | None = None
    suite_key: str | None = None
    agent_id: int | None = None

    @property
    def is_isv(self) -> bool:
        return self.kind in ("suite_corp", "suite")


class ControlError(Exception):
    """A control-API refusal: HTTP status + message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_body(request: Request) -> dict:
    """JSON or form body as a dict; raises ApiFail(43009) for a body that is neither."""
    if request.method != "POST":
        return {}
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    if request.mimetype == "multipart/form-data":
        try:
            return request.form.to_dict()
        except RequestEntityTooLarge:
            # werkzeug's form limits (500 kB of text fields, 1000 parts): KB/0013 41102.
            raise ApiFail(41102) from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiFail(43009) from None
    if not isinstance(body, dict):
        raise ApiFail(43009)
    return body


class CallContext:
    """One DingTalk API call. `caller` is set before the handler runs (None for auth "none")."""

    def __init__(self, emulator: "Emulator", request: Request, route: ApiRoute, body: dict):
        self.emulator = emulator
        self.state = emulator.state
        self.clock = emulator.clock
        self.config = emulator.config
        self.request = request
        self.route = route
        self.endpoint = route.endpoint
        self.topapi = route.topapi
        self.query = request.args.to_dict()
        self.body = body
        self.params: dict[str, Any] = {**self.query, **body}
        self.caller: Caller | None = None

    # ---- failing -----------------------------------------------------------------------
    def fail(self, errcode: int, errmsg: str | None = None) -> ApiFail:
        return ApiFail(errcode, errmsg)

    def bad_param(self, errmsg: str | None = None) -> ApiFail:
        """The generic bad-parameter answer: 400002 on topapi, 40035 on the classic API."""
        return ApiFail(400002 if self.topapi else 40035, errmsg)

    # ---- parameters --------------------------------------------------------------------
    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name, default)
        return default if value is None else value

    def require_str(self, name: str, *, errcode: int | None = None) -> str:
        value = self.params.get(name)
        if value is None or isinstance(value, dict | list) or str(value).strip() == "":
            raise ApiFail(errcode) if errcode else self.bad_param(f"缺少参数 {name}")
        return str(value).strip()

    def int_arg(self, name: str, *, default: int | None = None, errcode: int | None = None) -> int:
        value = self.params.get(name)
        if value is None or value == "":
            if default is not None:
                return default
            raise ApiFail(errcode) if errcode else self.bad_param(f"缺少参数 {name}")
        invalid = ApiFail(errcode) if errcode else self.bad_param(f"不合法的参数 {name}")
        if isinstance(value, bool):
            raise invalid
        try:
            return int(str(value).strip())
        except ValueError:
            raise invalid from None

    def bool_arg(self, name: str, *, default: bool) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise self.bad_param(f"不合法的参数 {name}")

    def json_arg(self, name: str) -> Any:
        """A parameter that may arrive as an object or as a JSON string (e.g. `msg`)."""
        value = self.params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return None
        return value

    # ---- the caller's world --------------------------------------------------------------
    @cached_property
    def corp(self) -> Corp:
        assert self.caller is not None and self.caller.corp_id is not None
        return self.state.corps[self.caller.corp_id]

    @cached_property
    def auth_record(self) -> AuthRecord | None:
        """The suite's authorisation in the caller's corp (None for internal callers)."""
        if self.caller is None or self.caller.kind != "suite_corp":
            return None
        return self.state.auths.get((self.caller.suite_key, self.caller.corp_id))

    @cached_property
    def visible_depts(self) -> set[int] | None:
        """Departments an ISV token may read (subtrees of authed_dept); None = everything."""
        record = self.auth_record
        if record is None:
            return None
        out: set[int] = set()
        for dept_id in record.authed_dept:
            if dept_id in self.corp.depts:
                out.update(self.corp.subtree(dept_id))
        return out

    def dept_in_scope(self, dept_id: int) -> bool:
        visible = self.visible_depts
        return visible is None or dept_id in visible

    def user_in_scope(self, user: User) -> bool:
        visible = self.visible_depts
        if visible is None:
            return True
        record = self.auth_record
        if record is not None and user.userid in record.authed_user:
            return True
        return any(d in visible for d in user.depts)

    def check_agent(self, agent_id: int) -> None:
        """agent_id must be the caller's own app in the caller's corp (40056 by default)."""
        caller = self.caller
        assert caller is not None
        if caller.agent_id is not None:
            ok = agent_id == caller.agent_id
        else:
            ok = any(a.corp_id == caller.corp_id and a.agent_id == agent_id
                     for a in self.state.apps.values())
        if not ok:
            raise ApiFail(self.config.foreign_agent_errcode)


class ControlContext:
    """One /_emulator/ control call: the JSON body (or query args for GET) and the emulator."""

    def __init__(self, emulator: "Emulator", request: Request, body: dict):
        self.emulator = emulator
        self.request = request
        self.body = body
        self.args = request.args.to_dict()

    def arg(self, name: str, default: Any = None) -> Any:
        if name in self.body:
            return self.body[name]
        return self.args.get(name, default)

    def require(self, name: str) -> Any:
        value = self.arg(name)
        if value is None:
            raise ControlError(400, f"missing argument: {name}")
        return value
