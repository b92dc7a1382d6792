"""Recording pushed suite tickets: history kept, repeats ignored, newest push wins."""

import hashlib
import logging

from django.db import IntegrityError, transaction

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
    existing = SuiteTicket.objects.filter(suite=suite, ticket_digest=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            row = SuiteTicket.objects.create(
                suite=suite, ticket=ticket, ticket_digest=digest, pushed_at_ms=int(pushed_at_ms)
            )
    except IntegrityError:
        # A concurrent delivery of the same push stored it first.
        return SuiteTicket.objects.get(suite=suite, ticket_digest=digest)
    logger.info("suite %s: ticket recorded (pushed_at_ms=%s)", suite.suite_key, pushed_at_ms)
    return row
