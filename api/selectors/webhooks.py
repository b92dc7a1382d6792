"""Which webhook endpoints a key manages: its owner's (a suite's or an internal app's), and only
for a key of the whole owner; another owner's endpoint is not found, exactly like none. And an
endpoint's deliveries, only through the endpoint."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from api.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.services.webhooks_errors import (
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookForbidden,
)

_BIGINT = 2**63


def webhook_owner(*, api_key: ApiKey) -> dict:
    """{"suite": ..., "app": ...} of the key, for creating an endpoint; WebhookForbidden for a
    key limited to some tenants (an endpoint hears about all of its owner's tenants)."""
    if api_key.app_id is None and api_key.tenants.exists():
        raise WebhookForbidden("this key is limited to some tenants; webhooks hear about every "
                               "tenant of the suite, so only a key of the whole suite manages "
                               "them")
    return {"suite": api_key.suite, "app": api_key.app}


def webhook_endpoints_visible(*, api_key: ApiKey) -> QuerySet[WebhookEndpoint]:
    owner = webhook_owner(api_key=api_key)
    if owner["app"] is not None:
        return WebhookEndpoint.objects.filter(app_id=owner["app"].pk)
    return WebhookEndpoint.objects.filter(suite_id=owner["suite"].pk)


def webhook_endpoint_get(*, api_key: ApiKey, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (webhook_endpoints_visible(api_key=api_key).filter(pk=endpoint_id).first()
                if 0 < endpoint_id < _BIGINT else None)  # past bigint: none, not a database error
    if endpoint is None:
        raise WebhookEndpointNotFound("no webhook endpoint with this id for this API key",
                                      extra={"id": endpoint_id})
    return endpoint


def webhook_deliveries_list(*, endpoint: WebhookEndpoint, status: str | None = None,
                            event_type: str | None = None,
                            created_after: datetime | None = None) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries (the caller orders: pagination's newest first), filtered."""
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if status is not None:
        qs = qs.filter(status=status)
    if event_type is not None:
        qs = qs.filter(event__event_type=event_type)
    if created_after is not None:
        qs = qs.filter(created_at__gte=created_after)
    return qs


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """One delivery of the endpoint with its attempts; WebhookDeliveryNotFound otherwise."""
    delivery = None
    if 0 < delivery_id < _BIGINT:
        delivery = (WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_id)
                    .select_related("event", "endpoint")
                    .prefetch_related(Prefetch("attempt_rows",
                                               queryset=WebhookAttempt.objects.order_by(
                                                   "attempted_at", "id")))
                    .first())
    if delivery is None:
        raise WebhookDeliveryNotFound("no delivery with this id for this webhook endpoint",
                                      extra={"id": delivery_id})
    return delivery
