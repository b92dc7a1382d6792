"""Which webhook endpoints a key manages: its owner's (a suite's or an internal app's), and only
for a key of the whole owner; another owner's endpoint is not found, exactly like none."""

from __future__ import annotations

from django.db.models import QuerySet

from api.models import ApiKey, WebhookEndpoint
from api.services.webhooks_errors import WebhookEndpointNotFound, WebhookForbidden


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
                if 0 < endpoint_id < 2**63 else None)  # past bigint: none, not a database error
    if endpoint is None:
        raise WebhookEndpointNotFound("no webhook endpoint with this id for this API key",
                                      extra={"id": endpoint_id})
    return endpoint
