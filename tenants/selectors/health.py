"""The operator's view of each suite's health, for the admin's home page: how old its newest
suite_ticket is, its tenants by status, callback events that failed or died in the last day,
and tenants whose access token is missing or expired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q

from core import clock
from tenants.models import AccessToken, CallbackEvent, Suite, SuiteTicket, Tenant

# PROTOCOL 0 item 3: DingTalk pushes a ticket every 20 min (old docs) to ~5 h (current docs);
# older than this and signed calls are at risk.
TICKET_STALE_AFTER = timedelta(hours=6)


@dataclass
class SuiteHealth:
    suite: Suite
    ticket_received_at: datetime | None
    tenants_by_status: dict[str, int] = field(default_factory=dict)
    events_failed_24h: int = 0
    events_dead_24h: int = 0
    tokens_stale: int = 0  # active tenants whose token is missing or past its expiry

    @property
    def ticket_age(self) -> timedelta | None:
        return None if self.ticket_received_at is None else clock.now() - self.ticket_received_at

    @property
    def ticket_stale(self) -> bool:
        return self.ticket_age is None or self.ticket_age > TICKET_STALE_AFTER

    @property
    def troubled(self) -> bool:
        return (self.ticket_stale or self.events_failed_24h > 0 or self.events_dead_24h > 0
                or self.tokens_stale > 0)


def suites_health() -> list[SuiteHealth]:
    """One SuiteHealth per registered suite, in a handful of grouped queries."""
    now = clock.now()
    since = now - timedelta(hours=24)
    suites = list(Suite.objects.order_by("name", "suite_key"))
    tickets = dict(SuiteTicket.objects.values_list("suite").annotate(Max("received_at")))
    health = {s.pk: SuiteHealth(suite=s, ticket_received_at=tickets.get(s.pk)) for s in suites}
    for suite_id, status, n in (Tenant.objects.filter(kind=Tenant.Kind.SUITE)
                                .values_list("suite", "status").annotate(Count("pk"))):
        health[suite_id].tenants_by_status[status] = n
    events = (CallbackEvent.objects.filter(suite__isnull=False, received_at__gte=since)
              .values("suite").annotate(
                  failed=Count("pk", filter=Q(status=CallbackEvent.Status.FAILED)),
                  dead=Count("pk", filter=Q(status=CallbackEvent.Status.DEAD))))
    for row in events:
        health[row["suite"]].events_failed_24h = row["failed"]
        health[row["suite"]].events_dead_24h = row["dead"]
    fresh = AccessToken.objects.filter(kind=AccessToken.Kind.CORP, expires_at__gt=now)
    stale = (Tenant.objects.filter(kind=Tenant.Kind.SUITE, status=Tenant.Status.AUTHORIZED,
                                   suspended=False)
             .exclude(pk__in=fresh.values("tenant")).values_list("suite")
             .annotate(Count("pk")))
    for suite_id, n in stale:
        health[suite_id].tokens_stale = n
    return [health[s.pk] for s in suites]
