"""The tenants app's own part of a tenant's data (tenants/lifecycle.py): the tenant row's
customer fields, its callback events, tokens and monthly call counts.

The Tenant row itself stays, blanked, as a tombstone: every app's rows point at it, the audit
row names it, and its `last_event_at` keeps refusing a late re-delivery of an authorization
older than the relieve (tenants/services/tenants.py). Corp id, suite, status and dates remain.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from core.redact import redact
from tenants.lifecycle import TenantDataPart, delete_querysets, export_rows, register
from tenants.models import AccessToken, CallbackEvent, MonthlyCallCount, Tenant
from tenants.services.tokens import tenant_token_key
from tenants.token_store import token_store

# Never exported, never kept: credentials, not the customer's data.
WITHHELD = ["permanent_code", "access tokens", "appsecret", "corpsecret", "callback_token",
            "encoding_aes_key", "secret-looking keys inside payloads (masked)"]
# Emptied on deletion (what the row says about the customer beyond its corp id).
BLANKED = {"corp_name": "", "full_corp_name": "", "auth_user_id": "", "auth_info": {},
           "auth_scopes": {}, "agent_id": None, "app_id": None, "authorized_at": None,
           "permanent_code": ""}
_TENANT_FIELDS = ["kind", "corp_id", "corp_name", "full_corp_name", "status", "suspended",
                  "agent_id", "app_id", "auth_user_id", "app_name", "appkey", "authorized_at",
                  "relieved_at", "last_event_at", "created_at"]


# Events whose processing is over: what a deletion may take. Any other (a re-authorization
# pushed meanwhile, still pending) is left for its processing, and the deletion waits for it.
SETTLED_EVENTS = (CallbackEvent.Status.DONE, CallbackEvent.Status.IGNORED,
                  CallbackEvent.Status.DEAD)


def tenant_events(tenant: Tenant) -> QuerySet[CallbackEvent]:
    """The callback events of the tenant: an internal app's own, or its suite's for its corp."""
    where = Q(tenant=tenant)
    if tenant.suite_id is not None:
        where |= Q(suite_id=tenant.suite_id, corp_id=tenant.corp_id)
    return CallbackEvent.objects.filter(where)


def _export(tenant: Tenant) -> dict[str, Any]:
    events = tenant_events(tenant).only(
        "id", "kind", "status", "received_at", "processed_at", "payload").order_by("pk")
    return {
        "tenant": {**{name: getattr(tenant, name) for name in _TENANT_FIELDS},
                   "suite_key": tenant.suite.suite_key if tenant.suite_id else None},
        "auth_info": redact(tenant.auth_info),
        "auth_scopes": redact(tenant.auth_scopes),
        "callback_events": [
            {"id": e.pk, "kind": e.kind, "status": e.status, "received_at": e.received_at,
             "processed_at": e.processed_at, "payload": redact(e.payload)}
            for e in events.iterator(chunk_size=500)],
        "monthly_call_counts": export_rows(MonthlyCallCount.objects.filter(tenant=tenant)),
        "withheld": WITHHELD,
    }


def _delete(tenant: Tenant) -> dict[str, int]:
    # The Redis copy of the corp token too (a relieve already dropped it; this is for the rest),
    # once the deletion committed: no network I/O inside its transaction.
    transaction.on_commit(partial(token_store().delete, tenant_token_key(tenant=tenant)),
                          robust=True)
    counts = delete_querysets(tenant_events(tenant).filter(status__in=SETTLED_EVENTS),
                              AccessToken.objects.filter(tenant=tenant),
                              MonthlyCallCount.objects.filter(tenant=tenant))
    Tenant.objects.filter(pk=tenant.pk).update(**BLANKED)
    return counts


register(TenantDataPart(name="tenants", export=_export, delete=_delete, order=1000))
