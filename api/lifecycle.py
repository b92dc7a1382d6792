"""api's part of a tenant's data (tenants/lifecycle.py): the webhook events about the tenant
(with their deliveries and attempts), and the API keys restricted to it.

Keys are the ISV's, not the customer's, so they are not deleted: the tenant leaves each key's
restriction list, and a key restricted to this tenant alone is revoked first (an empty list
would mean "every tenant of the suite"). An internal app's own keys and endpoints are never
touched: internal apps are never deleted (they are the ISV's own corp).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from api.models import ApiKey, WebhookDelivery, WebhookEvent
from api.services.keys import api_key_revoke
from tenants.lifecycle import TenantDataPart, delete_querysets, register

_Restriction = ApiKey.tenants.through


def _export(tenant: Any) -> dict[str, Any]:
    events = WebhookEvent.objects.filter(tenant=tenant).order_by("pk")
    deliveries = (WebhookDelivery.objects.filter(event__tenant=tenant)
                  .values("event_id", "status").annotate(n=Count("pk")))
    by_event: dict[int, dict[str, int]] = {}
    for row in deliveries:
        by_event.setdefault(row["event_id"], {})[row["status"]] = row["n"]
    return {
        "webhook_events": [
            {"event_id": str(e.event_id), "event_type": e.event_type, "created_at": e.created_at,
             "payload": e.payload, "deliveries": by_event.get(e.pk, {})}
            for e in events.iterator(chunk_size=500)],
        "api_keys_restricted_to_tenant": [
            {"name": k.name, "prefix": k.prefix, "revoked_at": k.revoked_at}
            for k in ApiKey.objects.filter(tenants=tenant).order_by("pk")],
    }


def _delete(tenant: Any) -> dict[str, int]:
    theirs = _Restriction.objects.filter(tenant=tenant).values("apikey_id")
    only_this = (_Restriction.objects.filter(apikey_id__in=theirs).values("apikey_id")
                 .annotate(n=Count("pk")).filter(n=1).values("apikey_id"))
    for key in ApiKey.objects.filter(pk__in=only_this, revoked_at__isnull=True):
        api_key_revoke(api_key=key)
    return delete_querysets(WebhookEvent.objects.filter(tenant=tenant),
                            _Restriction.objects.filter(tenant=tenant))


register(TenantDataPart(name="api", export=_export, delete=_delete, order=50))
