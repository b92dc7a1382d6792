"""Each tenant's send window: how many of its batches may wait for the limiter at once.

Planning cuts a 100,000-recipient notification into 1,000 batches. Queued all at once, they
would all contend for the suite's per-minute budget, and another tenant's one small batch
would be one contender among a thousand. So a PENDING batch waits unqueued (queued_at empty)
until its tenant has fewer than MESSAGING_SEND_WINDOW_PER_TENANT batches queued or sending;
then it is queued (queued_at set, a send task published). Every tenant with work so holds
only a few contenders however much it has to send, and a small notification's batch reaches
the limiter at once. Within a tenant, first batches of every notification go before second
ones (ordered by seq, then id): a tenant's own urgent message does not wait behind its own
broadcast either.

A turn frees when a batch leaves SENDING (sent, unknown, failed, held, cancelled): the sender
promotes the tenant's next batch then (tenant_sends_promote). The sweep promotes too, so a
promotion lost with a dead worker is made within a sweep interval. A stopped or suspended
tenant's batches are not promoted (the first one sent found it inactive and is HELD); its
lifecycle receivers promote them when it is active again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q

from core import clock
from messaging.models import NotificationBatch
from messaging.services.batch_queue import batch_send_enqueue
from tenants.models import Tenant

logger = logging.getLogger("messaging.pacing")

Status = NotificationBatch.Status


def _in_window() -> Q:
    return Q(status=Status.SENDING) | Q(status=Status.PENDING, queued_at__isnull=False)


# The window's room and the next parked batches, queued in one statement (it runs once per
# batch sent, so its round trips count). Its snapshot is taken after the tenant's lock.
_PROMOTE_SQL = """
UPDATE {batch} SET queued_at = %(now)s, next_attempt_at = %(now)s
WHERE id IN (
    SELECT id FROM {batch}
    WHERE tenant_id = %(tenant)s AND status = %(pending)s AND queued_at IS NULL
      AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
    ORDER BY seq, id
    LIMIT GREATEST(0, %(window)s - (
        SELECT count(*) FROM {batch}
        WHERE tenant_id = %(tenant)s AND (status = %(sending)s
                                          OR (status = %(pending)s AND queued_at IS NOT NULL)))))
  AND status = %(pending)s AND queued_at IS NULL
RETURNING id, seq
"""


def tenant_sends_promote(*, tenant_id: int) -> list[int]:
    """Queue the tenant's next parked batches while its window has room; returns their ids."""
    with transaction.atomic():
        # The tenant row's lock serialises promotions of one tenant across workers, so two
        # finishing sends never both fill the same free turn.
        tenant = (Tenant.objects.select_for_update(of=("self",)).only("status", "suspended")
                  .filter(pk=tenant_id).first())
        if tenant is None or not tenant.is_active:
            return []
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_PROMOTE_SQL.format(batch=NotificationBatch._meta.db_table), {
                    "now": clock.now(), "tenant": tenant_id, "pending": Status.PENDING.value,
                    "sending": Status.SENDING.value,
                    "window": settings.MESSAGING_SEND_WINDOW_PER_TENANT})
                ids = [pk for pk, _ in sorted(cursor.fetchall(),
                                              key=lambda row: (row[1], row[0]))]
        else:
            ids = _promote_portable(tenant_id)
        if not ids:
            return []
        transaction.on_commit(lambda: [batch_send_enqueue(batch_id=i) for i in ids])
    return ids


def _promote_portable(tenant_id: int) -> list[int]:
    """The same promotion in the ORM, for SQLite (the demo): no GREATEST, no UPDATE ...
    RETURNING in a subquery. SQLite's one writer at a time stands in for the row lock."""
    now = clock.now()
    busy = NotificationBatch.objects.filter(_in_window(), tenant_id=tenant_id).count()
    room = max(0, settings.MESSAGING_SEND_WINDOW_PER_TENANT - busy)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ids = list(NotificationBatch.objects.filter(due, tenant_id=tenant_id, status=Status.PENDING,
                                                queued_at__isnull=True)
               .order_by("seq", "id").values_list("id", flat=True)[:room])
    NotificationBatch.objects.filter(id__in=ids, status=Status.PENDING,
                                     queued_at__isnull=True).update(queued_at=now,
                                                                    next_attempt_at=now)
    return ids


def tenant_sends_promote_on_commit(*, tenant_id: int) -> None:
    """Promote once the caller's transaction commits; a failure then is logged, not raised
    (the rows are committed and the sweep promotes within its interval)."""
    def promote() -> None:
        try:
            tenant_sends_promote(tenant_id=tenant_id)
        except DatabaseError:
            logger.warning("promotion for tenant %s failed; the sweep will do it", tenant_id,
                           exc_info=True)

    transaction.on_commit(promote)


def tenants_promote_sweep(*, limit: int = 500) -> list[int]:
    """Promote for every active tenant with due parked batches and room in its window (what
    a worker that died between a send and its promotion left). Returns the batch ids queued."""
    now = clock.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    waiting = (NotificationBatch.objects.filter(due, status=Status.PENDING,
                                                queued_at__isnull=True)
               .values_list("tenant_id", flat=True).distinct())
    busy = dict(NotificationBatch.objects.filter(_in_window(), tenant_id__in=waiting)
                .values_list("tenant_id").annotate(n=Count("id")))
    window = settings.MESSAGING_SEND_WINDOW_PER_TENANT
    queued: list[int] = []
    for tenant_id in list(waiting[:limit]):
        if busy.get(tenant_id, 0) < window:
            queued += tenant_sends_promote(tenant_id=tenant_id)
    if queued:
        logger.info("sweep promoted %s parked batch(es)", len(queued))
    return queued
