"""HTTP handlers of topapi/message/corpconversation/* and the notices control routes."""

from __future__ import annotations

from ..codes import ApiFail
from ..context import CallContext, ControlContext, ControlError
from ..handlers.media import media_in_corp
from ..registry import api, control
from .binding import StateDirectory, agent_arg, engine_for, sender_for
from .errors import NoticeError

BASE = "/topapi/message/corpconversation"


def _run(ctx: CallContext, call, *, code: int):
    """Run one engine call under the state lock; NoticeError becomes DingTalk's answer."""
    engine = engine_for(ctx.emulator)
    with ctx.state.lock:
        try:
            sender = sender_for(ctx, agent_arg(ctx, code))
            return call(engine, sender)
        except NoticeError as exc:
            raise ApiFail(exc.errcode, exc.errmsg) from None


@api(f"{BASE}/asyncsend_v2", method="POST")
def asyncsend_v2(ctx: CallContext) -> dict:
    def call(engine, sender):
        record = ctx.auth_record
        if (record is not None and engine.config.enforce_message_api
                and ctx.state.suites[record.suite_key].message_api == "sendbytemplate"):
            raise NoticeError(60011)
        return engine.send(
            sender, agent_id=sender.agent_id, userid_list=ctx.params.get("userid_list"),
            dept_id_list=ctx.params.get("dept_id_list"),
            to_all_user=ctx.params.get("to_all_user"), msg=ctx.params.get("msg"),
            directory=StateDirectory(ctx, ctx.state),
            # _run holds the state lock: the check is one dict lookup, no second lock.
            media_known=lambda media_id: media_in_corp(ctx.state, sender.corp_id, media_id))

    return {"task_id": _run(ctx, call, code=40035)}


@api(f"{BASE}/sendbytemplate", method="POST")
def sendbytemplate(ctx: CallContext) -> dict:
    def call(engine, sender):
        record = ctx.auth_record
        templates = ctx.state.suites[record.suite_key].templates if record else {}
        return engine.send_by_template(
            sender, agent_id=sender.agent_id, template_id=ctx.params.get("template_id"),
            templates=templates, userid_list=ctx.params.get("userid_list"),
            dept_id_list=ctx.params.get("dept_id_list"), data=ctx.params.get("data"),
            directory=StateDirectory(ctx, ctx.state))

    return {"task_id": _run(ctx, call, code=400002)}


@api(f"{BASE}/getsendprogress", method="POST")
def getsendprogress(ctx: CallContext) -> dict:
    progress = _run(ctx, lambda engine, sender: engine.progress(
        sender, agent_id=sender.agent_id, task_id=ctx.params.get("task_id")), code=40035)
    return {"progress": progress}


@api(f"{BASE}/getsendresult", method="POST")
def getsendresult(ctx: CallContext) -> dict:
    result = _run(ctx, lambda engine, sender: engine.result(
        sender, agent_id=sender.agent_id, task_id=ctx.params.get("task_id")), code=40035)
    return {"send_result": result}


@api(f"{BASE}/recall", method="POST")
def recall(ctx: CallContext) -> dict:
    _run(ctx, lambda engine, sender: engine.recall(
        sender, agent_id=sender.agent_id, task_id=ctx.params.get("msg_task_id")), code=400002)
    return {}


@api(f"{BASE}/status_bar/update", method="POST")
def status_bar_update(ctx: CallContext) -> dict:
    _run(ctx, lambda engine, sender: engine.update_status_bar(
        sender, agent_id=sender.agent_id, task_id=ctx.params.get("task_id"),
        status_value=ctx.params.get("status_value"), status_bg=ctx.params.get("status_bg")),
        code=40035)
    return {}


@control("/_emulator/notices/mark_read", methods=("POST",))
def control_mark_read(ctx: ControlContext) -> dict:
    """Body: {"task_id"?, "userids"?: [...], "corp_id"?}; at least one of task_id / userids."""
    task_id, userids = ctx.arg("task_id"), ctx.arg("userids")
    if task_id is None and userids is None:
        raise ControlError(400, "give task_id and/or userids")
    if isinstance(userids, str):
        userids = [u for u in userids.split(",") if u]
    marked = engine_for(ctx.emulator).mark_read(task_id=task_id, userids=userids,
                                                corp_id=ctx.arg("corp_id"))
    return {"marked": marked}


@control("/_emulator/notices/tasks/<int:task_id>", methods=("GET",))
def control_task(ctx: ControlContext, task_id: int) -> dict:
    summary = engine_for(ctx.emulator).task_summary(task_id)
    if summary is None:
        raise ControlError(404, f"no task {task_id}")
    return summary
