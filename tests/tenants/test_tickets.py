"""suite_ticket_record and suite_ticket_current: history, repeats, out-of-order pushes."""

import pytest

from tenants.models import SuiteTicket
from tenants.selectors.suites import suite_ticket_current, suite_ticket_latest
from tenants.services.tickets import suite_ticket_record

from .factories import SuiteFactory

pytestmark = pytest.mark.django_db


def test_tickets_none_before_first_push():
    suite = SuiteFactory()
    assert suite_ticket_current(suite=suite) is None
    assert suite_ticket_latest(suite=suite) is None


def test_tickets_newer_push_becomes_current_and_history_is_kept():
    suite = SuiteFactory()
    suite_ticket_record(suite=suite, ticket="ticket-a", pushed_at_ms=1_000)
    suite_ticket_record(suite=suite, ticket="ticket-b", pushed_at_ms=2_000)
    assert suite_ticket_current(suite=suite) == "ticket-b"
    assert SuiteTicket.objects.filter(suite=suite).count() == 2


def test_tickets_older_push_never_replaces_newer():
    suite = SuiteFactory()
    suite_ticket_record(suite=suite, ticket="ticket-new", pushed_at_ms=5_000)
    suite_ticket_record(suite=suite, ticket="ticket-old", pushed_at_ms=4_000)
    assert suite_ticket_current(suite=suite) == "ticket-new"
    assert suite_ticket_latest(suite=suite).pushed_at_ms == 5_000


def test_tickets_repeat_is_noop():
    suite = SuiteFactory()
    first = suite_ticket_record(suite=suite, ticket="ticket-a", pushed_at_ms=1_000)
    again = suite_ticket_record(suite=suite, ticket="ticket-a", pushed_at_ms=1_000)
    assert again.pk == first.pk
    assert SuiteTicket.objects.filter(suite=suite).count() == 1


def test_tickets_are_per_suite():
    one, two = SuiteFactory(), SuiteFactory()
    suite_ticket_record(suite=one, ticket="same-ticket", pushed_at_ms=1_000)
    suite_ticket_record(suite=two, ticket="same-ticket", pushed_at_ms=1_000)
    suite_ticket_record(suite=two, ticket="two-newer", pushed_at_ms=3_000)
    assert suite_ticket_current(suite=one) == "same-ticket"
    assert suite_ticket_current(suite=two) == "two-newer"


def test_tickets_repr_hides_ticket():
    suite = SuiteFactory()
    row = suite_ticket_record(suite=suite, ticket="visible-ticket", pushed_at_ms=1_000)
    assert "visible-ticket" not in repr(row) + str(row)
