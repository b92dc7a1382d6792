"""What the tenants app lets go of, daily: callback events that are done (never one that is
not: pending, failed, awaiting re-authorization or dead stay until an operator acts), old suite
tickets (the newest few per suite stay), monthly call counts past a year, long-expired tokens."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery

from core import clock
from core.purge import purge_in_batches
from tenants.models import AccessToken, CallbackEvent, MonthlyCallCount, SuiteTicket

FINISHED_EVENTS = (CallbackEvent.Status.DONE, CallbackEvent.Status.IGNORED)
# The newest tickets of a suite are kept whatever their age: the current one signs every call.
KEEP_TICKETS = 5


def tenants_purge(*, batch_size: int = 1000) -> dict[str, int]:
    """-> rows deleted per kind."""
    now = clock.now()
    events = CallbackEvent.objects.filter(
        status__in=FINISHED_EVENTS,
        received_at__lt=now - timedelta(days=settings.TENANTS_RETAIN_EVENTS_DAYS))
    kept = (SuiteTicket.objects.filter(suite=OuterRef("suite"))
            .order_by("-pushed_at_ms", "-id")
            .values("pushed_at_ms")[KEEP_TICKETS - 1:KEEP_TICKETS])
    # Pushed before the suite's 5th newest (a suite with fewer keeps all: the subquery is NULL
    # and no comparison with NULL holds) and received longer ago than the age limit.
    tickets = SuiteTicket.objects.filter(
        received_at__lt=now - timedelta(days=settings.TENANTS_RETAIN_TICKETS_DAYS),
        pushed_at_ms__lt=Subquery(kept))
    month_cut = (now - timedelta(days=400)).date().replace(day=1)
    return {
        "callback_events": purge_in_batches(events, batch_size=batch_size),
        "suite_tickets": purge_in_batches(tickets, batch_size=batch_size),
        "monthly_call_counts": purge_in_batches(
            MonthlyCallCount.objects.filter(month__lt=month_cut), batch_size=batch_size),
        "access_tokens": purge_in_batches(
            AccessToken.objects.filter(expires_at__lt=now - timedelta(days=7)),
            batch_size=batch_size),
    }
