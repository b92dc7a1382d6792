"""What the messaging app lets go of, daily: the per-recipient rows and batches of
notifications finished long ago (the notification stays, with its counts per outcome), ledger
days long past (only today's bookings limit a send), and the database limiter's idle keys."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from core import clock
from core.purge import purge_in_batches
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient


def messaging_purge(*, batch_size: int = 1000) -> dict[str, int]:
    """-> rows deleted per kind."""
    now = clock.now()
    old = Notification.objects.filter(
        status__in=Notification.FINAL,
        completed_at__lt=now - timedelta(days=settings.MESSAGING_RETAIN_RECIPIENTS_DAYS))
    counts = {
        "recipients": purge_in_batches(Recipient.objects.filter(notification__in=old),
                                       batch_size=batch_size),
        "batches": purge_in_batches(NotificationBatch.objects.filter(notification__in=old),
                                    batch_size=batch_size),
        "ledger_entries": purge_in_batches(
            LedgerEntry.objects.filter(
                day__lt=(now - timedelta(days=settings.MESSAGING_RETAIN_LEDGER_DAYS)).date()),
            batch_size=batch_size),
    }
    from messaging.limiter.database import DatabaseLimiter

    counts["limiter_keys"] = DatabaseLimiter().prune(older_than_s=3600)
    return counts
