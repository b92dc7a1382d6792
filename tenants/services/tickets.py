"""Recording pushed suite tickets: history kept, repeats ignored, newest push wins."""

import hashlib
import logging

from django.db import connection

from core.upserts import insert_new
from tenants.models import Suite, SuiteTicket

logger = logging.getLogger("tenants.tickets")


def suite_ticket_record(*, suite: Suite, ticket: str, pushed_at_ms: int) -> SuiteTicket:
    """Store a pushed ticket; a repeat of the same ticket is a no-op returning the stored row.

    Nothing is overwritten: the current ticket is the newest by DingTalk's `pushed_at_ms`
    (see selectors.suites.suite_ticket_current), so a late re-push of an older ticket never
    replaces a newer one.
    """
    if not ticket:
        raise ValueError("ticket must be a non-empty string")
    digest = hashlib.sha256(ticket.encode("utf-8")).hexdigest()
    values = {"suite_id": suite.pk, "ticket": ticket, "ticket_digest": digest,
              "pushed_at_ms": int(pushed_at_ms)}
    inserted = insert_new(SuiteTicket, [values], conflict=("suite", "ticket_digest"),
                          returning=("id", "received_at"))
    if not inserted:
        return SuiteTicket.objects.get(suite=suite, ticket_digest=digest)
    pk, received_at = inserted[0]
    row = SuiteTicket(id=pk, suite=suite, ticket=ticket, ticket_digest=digest,
                      pushed_at_ms=int(pushed_at_ms), received_at=received_at)
    row._state.adding, row._state.db = False, connection.alias
    logger.info("suite %s: ticket recorded (pushed_at_ms=%s)", suite.suite_key, pushed_at_ms)
    return row
