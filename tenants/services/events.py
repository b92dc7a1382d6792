"""Processing of stored callback events (the inbox), run by the Celery task."""

from tenants.models import CallbackEvent


def callback_event_reprocess(*, event: CallbackEvent) -> CallbackEvent:
    """Put an event back in the queue (an operator's retry from the admin)."""
    raise NotImplementedError  # filled in by the next commit
