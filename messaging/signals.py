"""Signals of the messaging app: its public hook for the apps above it (api's webhooks).

- notification_finished: a notification reached a final status (completed, partially failed,
  failed, cancelled or recalled). To be sent after the change is committed, with
  `sender=Notification, notification=<Notification>`, never by a rolled-back change; receivers
  must be quick and idempotent (write rows, enqueue on commit).

Sent through messaging/services/finishing.py by planning, cancel, the relieve cascade, recall
and settling, each after its commit. api also scans completed_at (api/services/webhooks_events.py)
as the safety net for a finish whose signal was lost with its process.
"""

from django.dispatch import Signal

notification_finished = Signal()
