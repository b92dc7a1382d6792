"""Publishing a batch's send and poll tasks by name; a message the broker refuses is left to
the sweep (messaging.notifications_sweep), which reads the batch's next_attempt_at."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger("messaging.batch_queue")

SEND_TASK = "messaging.batch_send"
POLL_TASK = "messaging.batch_poll"


def _publish(task: str, object_id: int, countdown: float | None) -> None:
    try:
        current_app.send_task(task, args=[object_id], countdown=countdown)
    except Exception as exc:  # the broker is down or hung: the sweep publishes it later
        logger.warning("%s for %s not enqueued (%s); the sweep will queue it", task,
                       object_id, type(exc).__name__)


def batch_send_enqueue(*, batch_id: int, countdown: float | None = None) -> None:
    _publish(SEND_TASK, batch_id, countdown)


def batch_send_enqueue_on_commit(*, batch_id: int, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: batch_send_enqueue(batch_id=batch_id, countdown=countdown))


def batch_poll_enqueue(*, batch_id: int, countdown: float | None = None) -> None:
    _publish(POLL_TASK, batch_id, countdown)


def batch_poll_enqueue_on_commit(*, batch_id: int, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: batch_poll_enqueue(batch_id=batch_id, countdown=countdown))

