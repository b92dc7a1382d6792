"""Helpers for the work-notification tests: messages, the emulator's org, planning in-process."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import TestCase

from core import clock
from messaging.models import Notification, Recipient
from messaging.services.notifications import notification_create
from messaging.services.planning import notification_plan
from tests.conftest import advance_time


def text(content: str = "hello") -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def org(emulator, corp_id: str) -> tuple[dict[int, list[int]], list[dict]]:
    """(children per department id, users) of a corp as the emulator holds it."""
    info = emulator.get_corp(corp_id)
    children: dict[int, list[int]] = {}
    for dept in info["departments"]:
        if dept.get("parent_id") is not None:
            children.setdefault(int(dept["parent_id"]), []).append(int(dept["id"]))
    return children, info["users"]


def subtree_users(emulator, corp_id: str, dept_id: int) -> dict[str, bool]:
    """{userid: active} of everyone in the department and its sub-departments."""
    children, users = org(emulator, corp_id)
    depts, stack = set(), [dept_id]
    while stack:
        d = stack.pop()
        depts.add(d)
        stack.extend(children.get(d, ()))
    return {u["userid"]: u.get("active", True) for u in users
            if depts & {int(d) for d in u["depts"]}}


def create_and_plan(tenant, **kwargs) -> Notification:
    """Create and plan in-process; the plan's on-commit work runs too (the tenant's send window
    is promoted: its first batches queued), as it would after a real commit."""
    # The create's own planning message is not published: once the session's Celery worker
    # runs, it would plan the notification first and this in-process plan would find it taken.
    with mock.patch("messaging.services.notifications.notification_plan_enqueue"):
        notification = notification_create(tenant=tenant, **kwargs)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return notification_plan(notification_id=notification.pk)


def outcomes(notification: Notification) -> dict[str, tuple[str, str]]:
    """{userid: (outcome, code)}."""
    return {r.userid: (r.outcome, r.code)
            for r in Recipient.objects.filter(notification=notification)}


def to_morning(emulator) -> None:
    """Move both clocks forward to the next 09:00 of the ledger's day (MESSAGING_DAY_TZ), so a
    test that needs minutes of the same day never straddles midnight."""
    local = clock.now().astimezone(ZoneInfo(settings.MESSAGING_DAY_TZ))
    morning = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    advance_time(emulator, (morning - local).total_seconds())

