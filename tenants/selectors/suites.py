"""Reads about suites: lookup by key (also cached per process) and the current suite_ticket."""

from django.db.models import QuerySet

from core.cache import ProcessCache
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


# Only the callback endpoint reads through it, and it re-reads the database before refusing a
# push, so rotated secrets never cause a refusal.
_CACHE: ProcessCache[Suite] = ProcessCache(max_age=30.0)


def suite_get_cached(*, suite_key: str) -> tuple[Suite, bool]:
    """(suite, came_from_cache): saves a query and three decryptions per callback."""
    return _CACHE.get_or_load(suite_key, lambda: suite_get_by_key(suite_key=suite_key))


def suite_cache_forget(*, suite_key: str) -> None:
    _CACHE.forget(suite_key)


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
