"""The status bar of a sent OA work notification (PROTOCOL 3.5: corpconversation/status_bar/
update, OA tasks up to 7 days old): one call per task, every input checked before the first."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from core import clock
from dingtalk.errors import DingTalkError
from messaging.errors import NotificationNotFound
from messaging.errors_recall import (
    StatusBarFailed,
    StatusBarInvalid,
    StatusBarNotApplicable,
    StatusBarWindowClosed,
)
from messaging.models import Notification, NotificationBatch
from messaging.services.recall import WINDOW_MARGIN, WITH_TASK, dingtalk_failure, was_recalled
from tenants.services.clients import client_for

logger = logging.getLogger("messaging.status_bar")

Status = Notification.Status
STATUS_BAR_WINDOW = timedelta(days=7)  # PROTOCOL 3.5
# DingTalk documents no length; a status bar shows a word or two (dingsuite's own bound).
MAX_STATUS_VALUE = 64
_ARGB = re.compile(r"^(?:0[xX])?([0-9A-Fa-f]{8})$")


@dataclass(frozen=True)
class StatusBarUpdate:
    """The notification and the DingTalk tasks whose status bar now shows the new value."""

    notification: Notification
    task_ids: list[int] = field(default_factory=list)


def _inputs(status_value, status_bg) -> tuple[str, str | None]:
    """(value, colour as DingTalk writes it: 0x + 8 hex digits, or None)."""
    if not isinstance(status_value, str) or not status_value.strip():
        raise StatusBarInvalid("status_value is required (the text the status bar shows)")
    value = status_value.strip()
    if len(value) > MAX_STATUS_VALUE:
        raise StatusBarInvalid(f"status_value is at most {MAX_STATUS_VALUE} characters")
    if status_bg is None or status_bg == "":
        return value, None
    match = _ARGB.match(status_bg) if isinstance(status_bg, str) else None
    if match is None:
        raise StatusBarInvalid("status_bg is an ARGB colour, 8 hex digits such as 0xFF78C06E")
    return value, f"0x{match.group(1).upper()}"


def _tasks(n: Notification) -> list[NotificationBatch]:
    """Its batches DingTalk has a task for, not recalled; refusals when there are none."""
    msgtype = n.msg.get("msgtype") if isinstance(n.msg, dict) else "template"
    if msgtype != "oa":
        raise StatusBarNotApplicable(
            f"only OA messages have a status bar; this one is a {msgtype} message",
            extra={"msgtype": msgtype})
    if n.status in (Status.RECALLED, Status.CANCELLED):
        raise StatusBarNotApplicable(f"the notification is {n.status}", extra={"status": n.status})
    batches = [b for b in NotificationBatch.objects.filter(
        notification=n, task_id__isnull=False, status__in=WITH_TASK).order_by("seq")
        if not was_recalled(b)]
    if not batches:
        raise StatusBarNotApplicable("nothing of it has been sent: DingTalk has no task yet",
                                     extra={"status": n.status})
    oldest = clock.now() - (STATUS_BAR_WINDOW - WINDOW_MARGIN)
    late = [b.seq for b in batches if b.sent_at is not None and b.sent_at < oldest]
    if late:
        raise StatusBarWindowClosed("DingTalk updates the status bar only within 7 days of "
                                    "sending", extra={"late_batches": late})
    return batches


def notification_status_bar_update(*, notification_id: int, status_value: str,
                                   status_bg: str | None = None) -> StatusBarUpdate:
    """Set the status bar of every task of a sent OA notification. DingTalk keeps the bar;
    dingsuite stores nothing (the notification's msg stays the message as sent). A DingTalk
    error stops at that task: StatusBarFailed names it and the tasks updated before it."""
    value, bg = _inputs(status_value, status_bg)
    n = Notification.objects.select_related("tenant").filter(pk=notification_id).first()
    if n is None:
        raise NotificationNotFound("no such notification", extra={"id": notification_id})
    batches = _tasks(n)
    tenant = n.tenant
    client = client_for(tenant)
    done: list[int] = []
    for b in batches:
        try:
            client.work_notices.update_status_bar(tenant.agent_id, b.task_id, value, bg)
        except DingTalkError as exc:
            raise dingtalk_failure(StatusBarFailed, exc, "status bar update", b,
                                   {"updated_task_ids": done}) from exc
        done.append(b.task_id)
    logger.info("notification %s: status bar %r on %s task(s)", n.pk, value, len(done))
    return StatusBarUpdate(notification=n, task_ids=done)
