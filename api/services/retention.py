"""What the api app lets go of, daily: webhook events whose every delivery is finished
(succeeded or failed) and older than API_WEBHOOK_RETAIN_DAYS, with their deliveries and
attempts. An event with a delivery still pending or retrying is never purged."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from api.models import WebhookDelivery, WebhookEvent
from core import clock
from core.purge import purge_in_batches


def api_purge(*, batch_size: int = 1000) -> dict[str, int]:
    """-> rows deleted per kind."""
    cutoff = clock.now() - timedelta(days=settings.API_WEBHOOK_RETAIN_DAYS)
    open_events = WebhookDelivery.objects.filter(
        status__in=WebhookDelivery.OPEN).values("event")
    events = (WebhookEvent.objects.filter(created_at__lt=cutoff)
              .exclude(pk__in=open_events))
    return {"webhook_events": purge_in_batches(events, batch_size=batch_size)}
