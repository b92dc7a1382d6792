"""DingTalk tokens shared across processes: Redis for speed and the lock, PostgreSQL to last."""

from tenants.models import Tenant


def tenant_refresh_token(*, tenant: Tenant) -> None:
    """Drop the tenant's cached corp token and fetch a new one now."""
    raise NotImplementedError  # filled in by the next commit
