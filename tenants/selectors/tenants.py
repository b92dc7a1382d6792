"""Reads about tenants: lookup by suite and corp, the active ones, and the permanent-code rule.

Internal-app tenants are looked up by their appkey in selectors/apps.py."""

from datetime import datetime

from django.db.models import QuerySet

from tenants.errors import TenantNotFound
from tenants.models import Suite, Tenant


def tenant_get(*, suite: Suite, corp_id: str) -> Tenant:
    """The tenant of `suite` for `corp_id`; TenantNotFound otherwise."""
    try:
        return Tenant.objects.select_related("suite").get(suite=suite, corp_id=corp_id)
    except Tenant.DoesNotExist:
        raise TenantNotFound(
            "this corp has not authorized the suite",
            extra={"suite_key": suite.suite_key, "corp_id": corp_id},
        ) from None


def tenant_list_active(*, suite: Suite | None = None) -> QuerySet[Tenant]:
    """Tenants that may call DingTalk: authorized and not suspended by an operator."""
    qs = Tenant.objects.select_related("suite").filter(
        status=Tenant.Status.AUTHORIZED, suspended=False
    )
    return qs if suite is None else qs.filter(suite=suite)


def tenant_find(*, suite: Suite, corp_id: str | None) -> Tenant | None:
    """The tenant of `suite` for `corp_id`, or None (also for an empty corp id)."""
    if not corp_id:
        return None
    return Tenant.objects.select_related("suite").filter(suite=suite, corp_id=corp_id).first()


def tenant_last_event_at(*, suite: Suite, corp_id: str) -> datetime | None:
    """DingTalk's time of the newest event the tenant applied, or None."""
    return (Tenant.objects.filter(suite=suite, corp_id=corp_id)
            .values_list("last_event_at", flat=True).first())


def tenant_permanent_code(*, tenant: Tenant) -> str | None:
    """The code for the legacy permanent-code calls: only HTTP-push suites that were given one.

    SyncHTTP suites sign with the suite ticket alone (PROTOCOL 6.3), whatever a row holds.
    """
    if tenant.suite is None:  # an internal app: gettoken with its own credentials
        return None
    if tenant.suite.push_style == Suite.PushStyle.HTTP and tenant.permanent_code:
        return tenant.permanent_code
    return None
