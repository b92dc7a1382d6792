"""The mirror's DingTalk calls: paced per (app, API), counted, and waited through throttling.

A throttled call (90018 per app per API, 90002 per API, the 9000x family: dingtalk.repeat
classifies them RateLimited) is waited out and repeated, 1 s, 2 s, 4 s... (PROTOCOL-ISV 4.2),
rather than failing a sync that may have walked hundreds of departments. A wait longer than the
cap (the 5-minute IP ban, or the egress budget saying so) is raised: the sync fails and the
sweep retries it later, from its checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from dingtalk.errors import NotFound, PermissionDenied, RateLimited
from directory.pacing import pace
from tenants.models import Tenant

logger = logging.getLogger(__name__)

T = TypeVar("T")

# PROTOCOL 4: 50002/50004 outside the scope, 60121/33012/60003 gone; both mean "not visible".
NOT_VISIBLE = (PermissionDenied, NotFound)
_MAX_WAIT = 8.0


def app_key(tenant: Tenant) -> str:
    """The app DingTalk's per-app limit counts: the suite (all its corps), or the internal app."""
    if tenant.suite_id is not None:
        return f"suite:{tenant.suite.suite_key}"
    return f"app:{tenant.app_key_label}"


class PacedCaller:
    """Runs one DingTalk call at a time for a sync or a row, paced and counted."""

    def __init__(self, tenant: Tenant, *, on_wait: Callable[[], None] | None = None) -> None:
        self.app = app_key(tenant)
        self.calls = 0
        self._on_wait = on_wait

    def __call__(self, path: str, fn: Callable[[], T]) -> T:
        """fn() once it fits the window, repeated while DingTalk throttles it."""
        retries = settings.DIRECTORY_THROTTLE_RETRIES
        for attempt in range(retries + 1):
            pace(self.app, path)
            self.calls += 1
            try:
                return fn()
            except RateLimited as error:
                wait = min(_MAX_WAIT, 2.0 ** attempt)
                retry_after = getattr(error, "retry_after", None) or 0
                if retry_after > _MAX_WAIT or attempt == retries:
                    raise
                wait = max(wait, retry_after)
                logger.info("directory call %s throttled (%s); waiting %.1f s", path,
                            getattr(error, "errcode", None), wait)
                if self._on_wait is not None:
                    self._on_wait()
                time.sleep(wait)
        raise AssertionError("unreachable")


def visible(caller: PacedCaller, path: str, fn: Callable[[], T]) -> T | None:
    """The call's answer, or None when the object is gone or outside the app's scope."""
    try:
        return caller(path, fn)
    except NOT_VISIBLE:
        return None
