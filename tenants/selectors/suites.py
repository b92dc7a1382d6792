"""Reads about suites: lookup by key (also cached per process) and the current suite_ticket."""

import time

from django.db.models import QuerySet

from tenants.errors import SuiteNotFound
from tenants.models import Suite, SuiteTicket


def suite_get_by_key(*, suite_key: str) -> Suite:
    """The suite registered under `suite_key`; SuiteNotFound otherwise."""
    try:
        return Suite.objects.get(suite_key=suite_key)
    except Suite.DoesNotExist:
        raise SuiteNotFound(
            "no suite is registered under this key", extra={"suite_key": suite_key}
        ) from None


# suite_key -> (monotonic time fetched, Suite). Only the callback endpoint reads through it, and
# it re-reads the database before rejecting a push, so rotated secrets never cause a rejection.
_CACHE: dict[str, tuple[float, Suite]] = {}


def suite_get_cached(*, suite_key: str, max_age: float = 30.0) -> tuple[Suite, bool]:
    """(suite, came_from_cache): saves a query and three decryptions per callback."""
    hit = _CACHE.get(suite_key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < max_age:
        return hit[1], True
    suite = suite_get_by_key(suite_key=suite_key)
    _CACHE[suite_key] = (now, suite)
    return suite, False


def suite_cache_forget(*, suite_key: str) -> None:
    _CACHE.pop(suite_key, None)


# The one ordering of tickets: DingTalk's push time (not arrival), newest first.
TICKET_ORDER = ("-pushed_at_ms", "-id")


def suite_tickets_newest_first(*, suite) -> QuerySet[SuiteTicket]:
    """The suite's tickets in TICKET_ORDER (`suite` may be an OuterRef in a subquery)."""
    return SuiteTicket.objects.filter(suite=suite).order_by(*TICKET_ORDER)


def suite_ticket_latest(*, suite: Suite) -> SuiteTicket | None:
    """The newest ticket by DingTalk's push time (not by arrival), or None before the first."""
    return suite_tickets_newest_first(suite=suite).first()


def suite_ticket_current(*, suite: Suite) -> str | None:
    """The ticket to sign ISV calls with, or None when DingTalk has not pushed one yet."""
    return suite_tickets_newest_first(suite=suite).values_list("ticket", flat=True).first()


def suite_find(*, suite_key: str) -> Suite | None:
    """The suite registered under `suite_key`, or None."""
    return Suite.objects.filter(suite_key=suite_key).first()
