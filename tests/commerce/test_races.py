"""Races between pushes of one order on two workers (real PostgreSQL, two connections)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from commerce.models import MarketOrder
from commerce.services.orders import market_order_push
from commerce.services.refunds import market_refund_record
from tests.commerce.conftest import order_data
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = "
                       "'advisory' AND database = (SELECT oid FROM pg_database WHERE "
                       "datname = current_database())")
        return cursor.fetchone()[0]


def test_refund_committing_while_its_order_settles_voids_the_order(settings):
    settings.COMMERCE_VERIFY_ORDERS = False
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    recorded, release, pushed = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def refund():
        # The refund's transaction is open (its order not found: not pushed yet) ...
        try:
            with transaction.atomic():
                market_refund_record(suite=suite, corp_id=tenant.corp_id, order_id="o1",
                                     via="refund_event")
                recorded.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    def push():
        # ... while the order is pushed and settled on another worker.
        try:
            market_order_push(suite=suite, corp_id=tenant.corp_id, order_id="o1",
                              data=order_data(suite, tenant.corp_id, "o1"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            pushed.set()
            connections.close_all()

    refunding = threading.Thread(target=refund)
    refunding.start()
    assert recorded.wait(timeout=30)
    pushing = threading.Thread(target=push)
    pushing.start()
    deadline = time.monotonic() + 20
    # The push either finishes (no lock: the race is lost) or waits for the refund's commit.
    while not pushed.is_set() and _lock_waiters() == 0 and time.monotonic() < deadline:
        pushed.wait(timeout=0.05)
    release.set()
    refunding.join(timeout=30)
    pushing.join(timeout=30)
    assert not errors
    assert MarketOrder.objects.get(suite=suite, order_id="o1").status == \
        MarketOrder.Status.REFUNDED
