"""Work notifications (topapi/message/corpconversation/*)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from dingtalk import messages
from dingtalk.api._base import Resource, required
from dingtalk.api.models import SendProgress, SendResult, SendTask

_BASE = "topapi/message/corpconversation"
# PROTOCOL 3.6: sendbytemplate takes up to 5000 userids and 500 dept ids.
TEMPLATE_LIMITS = messages.RecipientLimits(max_userids=5000, max_dept_ids=500)


def _task(body: Mapping[str, Any], path: str) -> SendTask:
    return SendTask(task_id=int(required(body, "task_id", path)),
                    request_id=body.get("request_id"))


class WorkNotices(Resource):
    """`client.work_notices`. Sends are not idempotent: they are never retried blindly."""

    def send(
        self,
        agent_id: int,
        msg: messages.Message | Mapping[str, Any] | str,
        *,
        userids: Iterable[str] = (),
        dept_ids: Iterable[int] = (),
        to_all_user: bool = False,
        limits: messages.RecipientLimits | None = None,
    ) -> SendTask:
        """Send a work notice; DingTalk answers a task id and delivers later.

        Doc: asynchronous-sending-of-enterprise-session-messages (asyncsend_v2).
        """
        message = messages.from_dict(msg)
        body: dict[str, Any] = {"agent_id": int(agent_id), "msg": message.to_dict()}
        body.update(messages.recipients(userids, dept_ids, to_all_user, limits=limits,
                                        msg=message))
        path = f"{_BASE}/asyncsend_v2"
        return _task(self._post(path, body), path)

    def send_by_template(
        self,
        agent_id: int,
        template_id: str,
        data: Mapping[str, Any],
        *,
        userids: Iterable[str] = (),
        dept_ids: Iterable[int] = (),
        limits: messages.RecipientLimits | None = None,
    ) -> SendTask:
        """Send a work notice from a message template (ISV apps created after 2020-11-27).

        Doc: work-notification-templates-send-notifications (sendbytemplate).
        """
        if not template_id:
            raise messages.MessageError("template_id is required")
        body: dict[str, Any] = {"agent_id": int(agent_id), "template_id": template_id,
                                "data": json.dumps(dict(data), ensure_ascii=False)}
        body.update(messages.recipients(userids, dept_ids, limits=limits or TEMPLATE_LIMITS))
        path = f"{_BASE}/sendbytemplate"
        return _task(self._post(path, body), path)

    def progress(self, agent_id: int, task_id: int) -> SendProgress:
        """How far delivery of a task is (tasks up to 24 h old).

        Doc: obtain-the-sending-progress-of-asynchronous-sending-of-enterprise-session-messages.
        """
        body = self._post(f"{_BASE}/getsendprogress",
                          {"agent_id": int(agent_id), "task_id": int(task_id)})
        p = body.get("progress") or {}
        return SendProgress(percent=int(p.get("progress_in_percent", 0)),
                            status=int(p.get("status", 0)))

    def result(self, agent_id: int, task_id: int) -> SendResult:
        """Per-recipient outcome of a task: read, unread, invalid, forbidden, failed.

        Doc: gets-the-result-of-sending-messages-asynchronously-to-the-enterprise.
        """
        body = self._post(f"{_BASE}/getsendresult",
                          {"agent_id": int(agent_id), "task_id": int(task_id)})
        return SendResult.from_body(body)

    def recall(self, agent_id: int, task_id: int) -> None:
        """Withdraw a work notice sent within the last 24 h.

        Doc: notification-of-work-withdrawal (corpconversation/recall).
        """
        self._post(f"{_BASE}/recall", {"agent_id": int(agent_id), "msg_task_id": int(task_id)})

    def update_status_bar(self, agent_id: int, task_id: int, status_value: str,
                          status_bg: str | None = None) -> None:
        """Change the status bar of an OA notice sent within 7 days.

        Doc: update-work-notification-status-bar (corpconversation/status_bar/update).
        """
        if not status_value:
            raise messages.MessageError("status_value is required")
        self._post(f"{_BASE}/status_bar/update", {
            "agent_id": int(agent_id), "task_id": int(task_id), "status_value": status_value,
            "status_bg": status_bg})
