"""Reads for the data lifecycle: a tenant by corp id for the operators' commands."""

from tenants.errors import TenantNotFound
from tenants.errors_lifecycle import TenantAmbiguous
from tenants.models import Tenant


def _label(tenant: Tenant) -> str:
    if tenant.suite_id is None:
        return f"internal app {tenant.app_key_label}"
    return f"suite {tenant.suite.suite_key}"


def tenant_for_corp(*, corp_id: str, suite_key: str | None = None) -> Tenant:
    """The one tenant of `corp_id` (of the suite `suite_key` when given): TenantNotFound, or
    TenantAmbiguous naming every suite and internal app the corp has a tenant of."""
    found = Tenant.objects.select_related("suite").filter(corp_id=corp_id)
    if suite_key:
        found = found.filter(suite__suite_key=suite_key)
    found = list(found.order_by("pk")[:50])
    if not found:
        raise TenantNotFound(f"no tenant of corp {corp_id}"
                             + (f" in suite {suite_key}" if suite_key else ""),
                             extra={"corp_id": corp_id, "suite_key": suite_key})
    if len(found) > 1:
        owners = sorted(_label(t) for t in found)
        raise TenantAmbiguous(f"corp {corp_id} has tenants of {', '.join(owners)}: "
                              "name one with --suite", extra={"corp_id": corp_id,
                                                              "tenants_of": owners})
    return found[0]
