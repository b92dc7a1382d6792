"""Reads about suites: lookup by key and the current suite_ticket."""

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


def suite_ticket_latest(*, suite: Suite) -> SuiteTicket | None:
    """The newest ticket by DingTalk's push time (not by arrival), or None before the first."""
    return SuiteTicket.objects.filter(suite=suite).order_by("-pushed_at_ms", "-id").first()


def suite_ticket_current(*, suite: Suite) -> str | None:
    """The ticket to sign ISV calls with, or None when DingTalk has not pushed one yet."""
    return (
        SuiteTicket.objects.filter(suite=suite)
        .order_by("-pushed_at_ms", "-id")
        .values_list("ticket", flat=True)
        .first()
    )
