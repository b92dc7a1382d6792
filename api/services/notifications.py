"""Notifications through the API: created only for an active tenant (a key's caller hears 409
at once instead of a notification held until an operator or DingTalk restores the app)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from messaging.models import Notification
from messaging.services.notifications import notification_create
from tenants.errors import TenantInactive
from tenants.models import Tenant


def tenant_require_active(*, tenant: Tenant) -> None:
    """TenantInactive (409) unless the tenant is authorized and not suspended."""
    if not tenant.is_active:
        raise TenantInactive(
            "the tenant is not active: its app is stopped or relieved, or it is suspended",
            extra={"corp_id": tenant.corp_id, "status": tenant.status,
                   "suspended": tenant.suspended})


def api_notification_create(*, tenant: Tenant, userids: list[str], dept_ids: list[int],
                            to_all_user: bool, msg: Mapping[str, Any] | None,
                            template_id: str | None, template_data: Mapping[str, Any] | None,
                            defer_held: bool, idempotency_key: str | None,
                            single_batch: bool = False) -> tuple[Notification, bool]:
    """(notification, created): created False when the idempotency key names an earlier
    notification of the same request (IdempotencyConflict for another request)."""
    replay = bool(idempotency_key) and Notification.objects.filter(
        tenant=tenant, idempotency_key=idempotency_key).exists()
    if not replay:  # a repeated request still gets its first answer
        tenant_require_active(tenant=tenant)
    notification = notification_create(
        tenant=tenant, userids=userids, dept_ids=dept_ids, to_all_user=to_all_user, msg=msg,
        template_id=template_id, template_data=template_data, defer_held=defer_held,
        idempotency_key=idempotency_key, single_batch=single_batch)
    return notification, not getattr(notification, "replayed", False)
