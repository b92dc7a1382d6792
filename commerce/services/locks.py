"""One order id's lock, so a refund and its order's settlement never miss each other."""

from __future__ import annotations

import hashlib

from django.db import connection


def order_lock(*, suite_id: int, order_id: str) -> None:
    """Hold a transaction-level PostgreSQL advisory lock on (suite, order id) until commit.

    Row locks cannot do it: a refund pushed while its order is being settled finds no order
    row to lock (it is not committed yet), and the settlement cannot see the uncommitted
    refund, so the order would settle ACTIVE with its refund recorded. SQLite (the quick
    start) runs one writer at a time: nothing to do.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"commerce.order:{suite_id}:{order_id}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)",
                       [int.from_bytes(digest[:8], "big", signed=True)])
