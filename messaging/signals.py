"""Signals of the messaging app: its public hook for the apps above it (api's webhooks).

- notification_finished: a notification reached a final status (completed, partially failed,
  failed, cancelled or recalled). To be sent after the change is committed, with
  `sender=Notification, notification=<Notification>`, never by a rolled-back change; receivers
  must be quick and idempotent (write rows, enqueue on commit).

Not sent yet: the places that finish a notification (planning, settling, cancel, recall) are to
send it once, each after its commit. Until then api finds finished notifications with a scan of
completed_at (api/services/webhooks_events.py) and a post_save fast path; the receiver is
already connected (api/apps.py), so sending it makes every finish heard at once.
"""

from django.dispatch import Signal

notification_finished = Signal()
