"""What the webhook services refuse, each with its stable `code` (kept beside the webhook
services so the webhook work touches no shared module; api/errors.py lists the others)."""

from core.errors import ServiceError

__all__ = ["WebhookDeliveryNotFinished", "WebhookDeliveryNotFound", "WebhookEndpointInactive",
           "WebhookEndpointInvalid", "WebhookEndpointNotFound", "WebhookForbidden",
           "WebhookHostUnresolved", "WebhookUrlRefused"]


class WebhookEndpointInvalid(ServiceError):
    """An endpoint that cannot be saved as asked (no owner, two owners, unknown event types)."""

    code = "webhook_endpoint_invalid"


class WebhookUrlRefused(ServiceError):
    """A URL that is not http(s), carries credentials, cannot be resolved, or resolves to an
    address that is not public (API_WEBHOOK_ALLOW_PRIVATE off)."""

    code = "webhook_url_refused"


class WebhookHostUnresolved(WebhookUrlRefused):
    """The URL's host does not resolve (now): refused at registration, retried at delivery."""


class WebhookEndpointNotFound(ServiceError):
    """No such endpoint for this key's owner (another owner's endpoint is not found either)."""

    code = "webhook_endpoint_not_found"
    http_status = 404


class WebhookForbidden(ServiceError):
    """A key limited to some of its suite's tenants: webhooks hear about every tenant, so only
    a key of the whole suite manages them."""

    code = "webhook_forbidden"
    http_status = 403


class WebhookDeliveryNotFound(ServiceError):
    """No such delivery of this endpoint (another endpoint's delivery is not found either)."""

    code = "webhook_delivery_not_found"
    http_status = 404


class WebhookDeliveryNotFinished(ServiceError):
    """A redelivery asked for a delivery still pending or retrying: it is on its way already."""

    code = "webhook_delivery_not_finished"
    http_status = 409


class WebhookEndpointInactive(ServiceError):
    """A redelivery to an endpoint that is switched off (it would only fail): activate it first."""

    code = "webhook_endpoint_inactive"
    http_status = 409
