"""Tenant lifecycle: create or update from DingTalk's auth info, app state, relieve, suspend."""


from tenants.models import Tenant


def tenant_suspend(*, tenant: Tenant) -> Tenant:
    """Put an operator's hold on the tenant: client_for refuses it until resumed."""
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)
    tenant.refresh_from_db()
    return tenant


def tenant_resume(*, tenant: Tenant) -> Tenant:
    """Lift the operator's hold (DingTalk's own status is untouched)."""
    Tenant.objects.filter(pk=tenant.pk).update(suspended=False)
    tenant.refresh_from_db()
    return tenant


def tenant_refresh_auth_info(*, tenant: Tenant) -> Tenant:
    """Re-read the tenant's auth info and scopes from DingTalk and store them."""
    raise NotImplementedError  # filled in by the next commit


__all__ = ["tenant_refresh_auth_info", "tenant_resume", "tenant_suspend"]
