"""Celery tasks of the api app: outbound webhooks, thin wrappers that take ids and call one
service (api/services/webhooks_delivery.py, webhooks_events.py).

Delivery rules: a delivery is not ack-late; its claim (a lease on the row) and the sweep make it
at least once: a worker killed mid-request leaves the lease to run out and the sweep queues it
again, so the receiver may see an event twice (it dedupes on X-Dingsuite-Event-Id). Retries are
not Celery's: the delivery's next_attempt_at holds the backoff and the sweep acts on it.
"""

from celery import shared_task

from api.services.webhooks import webhook_previous_secrets_drop
from api.services.webhooks_delivery import webhook_deliveries_sweep, webhook_delivery_attempt
from api.services.webhooks_events import notification_events_scan


@shared_task(name="api.webhook_deliver", acks_late=False, ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt of one delivery (nothing when it is not due or another worker has it)."""
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="api.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> None:
    """Beat, every few seconds: record the events of notifications that finished, queue the
    deliveries that are due or were lost, and empty the rotated-out secrets whose overlap is
    over (so none stays in the database past its window)."""
    notification_events_scan()
    webhook_deliveries_sweep()
    webhook_previous_secrets_drop()
