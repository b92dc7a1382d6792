"""The `directory.changed` webhook event: the tenant's directory mirror changed (a full sync
finished, or a batch of pushed contact rows was applied), recorded from directory's signal."""

from __future__ import annotations

from datetime import datetime

from api.models import WebhookEvent, WebhookEventType
from api.services.webhooks_events import webhook_event_record
from directory.selectors import mirror_state
from tenants.models import Tenant


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def directory_event_record(*, tenant: Tenant, reason: str,
                           generation: int) -> WebhookEvent | None:
    """One event per signal: {corp_id, reason ("sync" | "rows"), generation, synced_at}."""
    state = mirror_state(tenant=tenant)
    data = {"corp_id": tenant.corp_id, "reason": reason, "generation": generation,
            "synced_at": _iso(state.synced_at if state is not None else None)}
    # No dedupe key: every applied batch is news, and directory sends the signal once each.
    return webhook_event_record(event_type=WebhookEventType.DIRECTORY_CHANGED, tenant=tenant,
                                data=data)
