"""The api app's tables: API keys (keys.py), outbound webhooks (webhooks.py)."""

from api.models.keys import ApiKey
from api.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookScanMark,
)

__all__ = ["ApiKey", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
           "WebhookEventType", "WebhookScanMark"]
