"""The seed gateway's eighteen routes (/work/shared/SEED.md): its field names, its checks and
messages, and DingTalk's own body as the answer.

Reads and chat calls are one table: each route's fields (checked as the seed did: a required
field missing or empty is "<field> 不能为空") and the DingTalk call they become, made through
`client_for(tenant).request`, whose answer is DingTalk's whole body, passed on verbatim.
asyncsend_v2 is not a direct call: it becomes a single-batch notification (one DingTalk task,
planned through the ledger and sent under the limiter like every send) and waits, at most
API_SEED_SEND_WAIT_S, for that batch's task id (see seed_async_send).

The original's messages are reconstructed: SEED.md quotes "…必须有一个不能为空" (asyncsend_v2) and
"群主必须为群成员" (createChat); the other required-field messages follow the same Koa style.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from api.services.notifications import tenant_require_active
from core.errors import ServiceError
from dingtalk import messages
from messaging.errors import ChatsNotForSuites
from messaging.models import Notification, NotificationBatch
from messaging.selectors import notification_first_batch
from messaging.services.notifications import notification_create
from tenants.models import Tenant
from tenants.services.clients import client_for

NOTICES = "topapi/message/corpconversation"
AUDIENCE_REQUIRED = "userid_list, dept_id_list, to_all_user 必须有一个不能为空"
OWNER_NOT_MEMBER = "群主必须为群成员"
MAX_ID = 2**63 - 1
_MAX_TEXT = 256
_POLL_S = 0.05


class SeedRefused(ServiceError):
    """What a seed route refuses, with the seed's own message (the answer: 400 {"msg"})."""

    code = "seed_refused"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "str"  # "str", "int", "flag" (0 or 1), "bool" (true or false)
    required: bool = True


@dataclass(frozen=True)
class SeedRoute:
    method: str  # DingTalk's
    path: str
    fields: tuple[Field, ...] = ()
    chat: bool = False  # the legacy chat APIs: internal apps only (PROTOCOL 5)
    agent: bool = False  # DingTalk wants the tenant's agent_id in the body
    # POST bodies the seed built from its fields (None: a read, fields in the query).
    body: Callable[[dict[str, Any]], dict] | None = None


_ID, _LANG = Field("id", "int"), Field("lang", required=False)
_TASK = (Field("task_id", "int"),)

# SEED.md's table: route -> (DingTalk's method and path, the fields the seed required).
ROUTES: dict[str, SeedRoute] = {
    "getsendprogress": SeedRoute("POST", f"{NOTICES}/getsendprogress", _TASK, agent=True),
    "getsendresult": SeedRoute("POST", f"{NOTICES}/getsendresult", _TASK, agent=True),
    "list_ids": SeedRoute("GET", "department/list_ids", (_ID,)),
    "list": SeedRoute("GET", "department/list",
                      (_ID, _LANG, Field("fetch_child", "bool", required=False))),
    "departmentget": SeedRoute("GET", "department/get", (_ID, _LANG)),
    "list_parent_depts_by_dept": SeedRoute("GET", "department/list_parent_depts_by_dept",
                                           (_ID,)),
    "list_parent_depts": SeedRoute("GET", "department/list_parent_depts", (Field("userId"),)),
    "get_org_user_count": SeedRoute("GET", "user/get_org_user_count",
                                    (Field("onlyActive", "flag"),)),
    "userinfo": SeedRoute("GET", "user/get", (Field("userid"), _LANG)),
    "getDeptMember": SeedRoute("GET", "user/getDeptMember", (Field("deptId", "int"),)),
    "listbypage": SeedRoute("GET", "user/listbypage", (
        Field("department_id", "int"), Field("offset", "int"), Field("size", "int"))),
    "getUseridByUnionid": SeedRoute("GET", "user/getUseridByUnionid", (Field("unionid"),)),
    "authScopes": SeedRoute("GET", "auth/scopes"),
    "chatInfo": SeedRoute("GET", "chat/get", (Field("chatid"),), chat=True),
    "getReadList": SeedRoute("GET", "chat/getReadList", (
        Field("messageId"), Field("cursor", "int"), Field("size", "int")), chat=True),
}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _int(name: str, value: Any) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,19}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise SeedRefused(f"{name} 必须是非负整数")
    return value


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise SeedRefused(f"{name} 必须是 true 或 false")


def _text(name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise SeedRefused(f"{name} 必须是不超过 {_MAX_TEXT} 个字符的文本")
    return value.strip()


def _field(field: Field, data: Mapping[str, Any]) -> Any:
    value = data.get(field.name)
    if _empty(value):
        if field.required:
            raise SeedRefused(f"{field.name} 不能为空")
        return None
    if field.kind == "int":
        return _int(field.name, value)
    if field.kind == "bool":
        return "true" if _bool(field.name, value) else "false"
    if field.kind == "flag":
        return int(_bool(field.name, value))
    return _text(field.name, value)


def _chat_tenant(tenant: Tenant) -> None:
    if tenant.kind != Tenant.Kind.INTERNAL_APP:
        raise ChatsNotForSuites(
            "群聊接口仅限企业内部应用 (group chats are for internal apps only: DingTalk refuses "
            "third-party apps, errcode 60011)", extra={"corp_id": tenant.corp_id})


def seed_call(*, tenant: Tenant, route: str, data: Mapping[str, Any]) -> dict:
    """One of the table's routes: its fields checked, DingTalk's whole body returned."""
    spec = ROUTES[route]
    values = {f.name: _field(f, data) for f in spec.fields}
    values = {k: v for k, v in values.items() if v is not None}
    if spec.chat:
        _chat_tenant(tenant)
    client = client_for(tenant)
    if spec.method == "GET":
        return client.request("GET", spec.path, params=values, idempotent=True)
    body = {"agent_id": tenant.agent_id, **values} if spec.agent else values
    return client.request("POST", spec.path, json=body, idempotent=True)


def _userid_list(name: str, value: Any) -> list[str]:
    if _empty(value):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str | int) for i in items):
        raise SeedRefused(f"{name} 必须是逗号分隔的字符串或数组")
    return [_text(name, i) for i in items if str(i).strip()]


def _text_msg(value: Any) -> dict:
    """The seed's msg: text content (a message object is taken as one)."""
    if _empty(value):
        raise SeedRefused("msg 不能为空")
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise SeedRefused("msg 必须是文本")
    return {"msgtype": "text", "text": {"content": value}}


def seed_chat_create(*, tenant: Tenant, data: Mapping[str, Any]) -> dict:
    """createChat: name, owner, useridlist (comma string); the owner must be a member."""
    name, owner = (_field(Field(n), data) for n in ("name", "owner"))
    if _empty(data.get("useridlist")):
        raise SeedRefused("useridlist 不能为空")
    members = _userid_list("useridlist", data.get("useridlist"))
    if owner not in members:
        raise SeedRefused(OWNER_NOT_MEMBER)
    _chat_tenant(tenant)
    return client_for(tenant).request("POST", "chat/create", idempotent=False, json={
        "name": name, "owner": owner, "useridlist": members})


def seed_chat_send(*, tenant: Tenant, data: Mapping[str, Any]) -> dict:
    """chatSend: chatid and a text msg."""
    chatid = _field(Field("chatid"), data)
    try:
        msg = messages.from_dict(_text_msg(data.get("msg"))).to_dict()
    except messages.MessageError as exc:
        raise SeedRefused(f"msg 无效: {exc}") from None
    _chat_tenant(tenant)
    return client_for(tenant).request("POST", "chat/send", idempotent=False,
                                      json={"chatid": chatid, "msg": msg})


@dataclass(frozen=True)
class SeedSend:
    """asyncsend_v2's outcome: DingTalk's answer for the task, or (queued) the notification
    that will send it once the limiter lets it."""

    notification: Notification
    body: dict
    queued: bool


def seed_async_send(*, tenant: Tenant, data: Mapping[str, Any],
                    idempotency_key: str | None = None) -> SeedSend:
    """asyncsend_v2 as a single-batch notification, waiting for its task id."""
    tenant_require_active(tenant=tenant)  # else it would wait, held, until the deadline
    userids = _userid_list("userid_list", data.get("userid_list"))
    dept_ids = [_int("dept_id_list", d) for d in _userid_list("dept_id_list",
                                                              data.get("dept_id_list"))]
    to_all = not _empty(data.get("to_all_user")) and _bool("to_all_user", data["to_all_user"])
    if not (userids or dept_ids or to_all):
        raise SeedRefused(AUDIENCE_REQUIRED)
    msg = _text_msg(data.get("msg"))
    if len(userids) > 100 or len(dept_ids) > 20:  # DingTalk's own limits for one call
        raise SeedRefused("userid_list 最多 100 个, dept_id_list 最多 20 个",
                          extra={"userids": len(userids), "dept_ids": len(dept_ids)})
    try:
        notification = notification_create(
            tenant=tenant, userids=userids, dept_ids=dept_ids, to_all_user=to_all, msg=msg,
            single_batch=True, idempotency_key=idempotency_key)
    except ServiceError as exc:
        raise SeedRefused(exc.message, extra=exc.extra) from None
    body = _await_task(tenant, notification, float(settings.API_SEED_SEND_WAIT_S))
    if body is None:
        return SeedSend(notification, {"notification_id": notification.pk, "status": "queued"},
                        queued=True)
    return SeedSend(notification, body, queued=False)


_ERRCODE = re.compile(r"errcode (-?\d+): (.*?)(?: \(sub_code| \[HTTP| on | request_id=|$)")


def _refused(batch: NotificationBatch) -> SeedRefused:
    found = _ERRCODE.search(batch.last_error or "")
    if found is None:
        return SeedRefused(batch.last_error or "钉钉拒绝了发送")
    return SeedRefused(found.group(2) or batch.last_error,
                       extra={"errcode": int(found.group(1))})


def _await_task(tenant: Tenant, notification: Notification, wait_s: float) -> dict | None:
    """DingTalk's answer once the batch has its task id; None when `wait_s` passes first
    (the limiter holds it, or DingTalk throttled it: it is sent later). A wall-clock wait on
    this request, not domain time, so time.monotonic."""
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        batch = notification_first_batch(tenant=tenant, notification=notification)
        if batch is not None and batch.task_id is not None:
            answer = {"errcode": 0, "errmsg": "ok", "task_id": batch.task_id}
            return {**answer, "request_id": batch.request_id} if batch.request_id else answer
        if batch is not None and batch.status == NotificationBatch.Status.FAILED:
            raise _refused(batch)
        if batch is None or batch.status == NotificationBatch.Status.CANCELLED:
            notification.refresh_from_db(fields=["status", "last_error", "counts"])
            if notification.status in Notification.FINAL:
                raise SeedRefused(
                    "没有发送: " + (notification.last_error or "所有接收人都被当日发送规则拦截 "
                                    "(held back by DingTalk's daily rules)"),
                    extra={"notification_id": notification.pk, "counts": notification.counts})
        if time.monotonic() >= deadline:
            return None
        time.sleep(_POLL_S)  # the worker records the task id; polled with a deadline
