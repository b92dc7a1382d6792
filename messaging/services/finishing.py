"""Telling the apps above that a notification finished (messaging/signals.py), once the change
that finished it is committed: every place that writes a final status calls this."""

from __future__ import annotations

import logging

from django.db import transaction

from messaging.models import Notification
from messaging.signals import notification_finished

logger = logging.getLogger("messaging.finishing")


def notification_finished_on_commit(*, notification_id: int) -> None:
    """Send notification_finished after the current transaction commits (at once outside one).
    A receiver's failure is logged, never raised into the code that finished the notification:
    api's scan of completed_at records the event anyway."""
    transaction.on_commit(lambda: _send(notification_id))


def _send(notification_id: int) -> None:
    notification = (Notification.objects.select_related("tenant", "tenant__suite")
                    .filter(pk=notification_id, status__in=Notification.FINAL).first())
    if notification is None:
        return
    for receiver, result in notification_finished.send_robust(sender=Notification,
                                                              notification=notification):
        if isinstance(result, Exception):
            logger.warning("notification_finished receiver %s failed for notification %s: %s",
                           getattr(receiver, "__name__", receiver), notification_id,
                           type(result).__name__)
