"""Ties the notice engine to one running emulator: its state, clock, config and counters."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ..codes import ApiFail
from ..context import CallContext
from .config import NoticeConfig
from .engine import NoticeEngine
from .quotas import Sender

_lock = threading.Lock()


class StateDirectory:
    """The Directory protocol over the emulator's corps; ISV callers see only their scope.

    Recipients outside an ISV's authorised scope are reported as invalid, as if they did not
    exist: the ISV cannot even name them.
    """

    def __init__(self, ctx: CallContext | None, state):
        self.ctx = ctx
        self.state = state

    def _corp(self, corp_id: str):
        return self.state.corps.get(corp_id)

    def user_status(self, corp_id: str, userid: str) -> str | None:
        corp = self._corp(corp_id)
        user = corp.users.get(userid) if corp else None
        if user is None or (self.ctx is not None and not self.ctx.user_in_scope(user)):
            return None
        return "active" if user.active else "inactive"

    def has_dept(self, corp_id: str, dept_id: int) -> bool:
        corp = self._corp(corp_id)
        if corp is None or dept_id not in corp.depts:
            return False
        return self.ctx is None or self.ctx.dept_in_scope(dept_id)

    def dept_userids(self, corp_id: str, dept_id: int) -> Iterable[str]:
        corp = self._corp(corp_id)
        for sub in corp.subtree(dept_id):
            yield from corp.members.get(sub, ())

    def all_userids(self, corp_id: str) -> Iterable[str]:
        return list(self._corp(corp_id).users)


def engine_for(emulator) -> NoticeEngine:
    """The emulator's engine; a reset (a new State object) starts a fresh one."""
    with _lock:
        engine = getattr(emulator, "_notice_engine", None)
        if engine is None or engine.state is not emulator.state:
            engine = NoticeEngine(
                clock=emulator.clock.now_ms, directory=StateDirectory(None, emulator.state),
                on_count=lambda key, n, sender: emulator.counters.bump(
                    "recipients", key, n, corp_id=sender.corp_id, suite_key=sender.suite_key,
                    appkey=None if sender.is_isv else sender.app_key))
            engine.state = emulator.state
            engine.config_source = None
            emulator._notice_engine = engine
        _sync_config(engine, emulator.config.notices)
        # One knob for a wrong agent_id, the core's (PROTOCOL 11: 40056 or 70004).
        engine.wrong_agent_errcode = emulator.config.foreign_agent_errcode
        return engine


def _sync_config(engine: NoticeEngine, values: dict) -> None:
    """Follow `set_config {"notices": {...}}`: rebuild the config when the dict changed."""
    if engine.config_source == values:
        return
    engine.config.__dict__.update(NoticeConfig.from_dict(values).__dict__)
    engine.config_source = dict(values)


def sender_for(ctx: CallContext, agent_id: int) -> Sender:
    """The sending app as the engine knows it; agent_id is checked against the caller first."""
    ctx.check_agent(agent_id)
    caller = ctx.caller
    if caller.kind == "suite_corp":
        return Sender(corp_id=caller.corp_id, app_key=caller.suite_key, agent_id=agent_id,
                      is_isv=True)
    if caller.kind == "app":
        return Sender(corp_id=caller.corp_id, app_key=caller.appkey, agent_id=agent_id)
    # A legacy corpsecret token may send as any internal app of its corp.
    app = next(a for a in ctx.state.apps.values()
               if a.corp_id == caller.corp_id and a.agent_id == agent_id)
    return Sender(corp_id=caller.corp_id, app_key=app.appkey, agent_id=agent_id)


def agent_arg(ctx: CallContext, errcode: int) -> int:
    value = ctx.params.get("agent_id")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise ApiFail(errcode, "agent_id不合法") from None
