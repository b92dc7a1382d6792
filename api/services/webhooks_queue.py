"""Publishing webhook delivery tasks by name; a message the broker refuses is left to the sweep
(api.webhooks_sweep), which reads each delivery's next_attempt_at and queued_at."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger("api.webhooks")

DELIVER_TASK = "api.webhook_deliver"


def delivery_enqueue(*, delivery_id: int) -> None:
    try:
        current_app.send_task(DELIVER_TASK, args=[delivery_id])
    except Exception as exc:  # the broker is down or hung: the sweep publishes it later
        logger.warning("webhook delivery %s not enqueued (%s); the sweep will queue it",
                       delivery_id, type(exc).__name__)


def deliveries_enqueue_on_commit(*, delivery_ids: list[int]) -> None:
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(lambda: [delivery_enqueue(delivery_id=i) for i in ids])
