"""Reads about tenants: lookup by suite and corp, and the active ones."""

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
