"""Which tenants a key may see, and what the API shows of one.

Every tenant route goes through `api_tenant_get`: a corp the key may not see is "not found",
exactly like a corp that does not exist, so a key cannot probe for other suites' tenants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from api.models import ApiKey
from core import clock
from tenants.errors import TenantNotFound
from tenants.models import AccessToken, CallbackEvent, Tenant


def api_tenants_visible(*, api_key: ApiKey) -> QuerySet[Tenant]:
    """The tenants `api_key` may act for."""
    qs = Tenant.objects.select_related("suite")
    if api_key.app_id is not None:
        return qs.filter(pk=api_key.app_id)
    qs = qs.filter(kind=Tenant.Kind.SUITE, suite_id=api_key.suite_id)
    if api_key.tenants.exists():
        qs = qs.filter(pk__in=api_key.tenants.values("pk"))
    return qs


def api_tenant_get(*, api_key: ApiKey, corp_id: str) -> Tenant:
    """The tenant for `corp_id` that `api_key` may act for; TenantNotFound (404) otherwise."""
    tenant = (api_tenants_visible(api_key=api_key).filter(corp_id=corp_id).first()
              if isinstance(corp_id, str) and 0 < len(corp_id) <= 64 and "\x00" not in corp_id
              else None)
    if tenant is None:
        raise TenantNotFound("no tenant with this corp id for this API key",
                             extra={"corp_id": corp_id[:64].replace("\x00", "")
                                    if isinstance(corp_id, str) else None})
    return tenant


@dataclass(frozen=True)
class TokenState:
    state: str  # "valid", "expired" or "none" (no token fetched yet)
    expires_at: datetime | None
    fetched_at: datetime | None


def tenant_token_state(*, tenant: Tenant) -> TokenState:
    """The tenant's cached access token as the database last recorded it (never its value)."""
    row = (AccessToken.objects.filter(tenant=tenant).order_by("-fetched_at")
           .values("expires_at", "fetched_at").first())
    if row is None:
        return TokenState(state="none", expires_at=None, fetched_at=None)
    state = "valid" if row["expires_at"] > clock.now() else "expired"
    return TokenState(state=state, expires_at=row["expires_at"], fetched_at=row["fetched_at"])


def tenant_last_event(*, tenant: Tenant) -> dict | None:
    """The newest callback event about the tenant: its kind, status and when it came."""
    about = Q(tenant=tenant)
    if tenant.suite_id is not None:
        about |= Q(suite_id=tenant.suite_id, corp_id=tenant.corp_id)
    return (CallbackEvent.objects.filter(about).order_by("-received_at", "-pk")
            .values("kind", "status", "received_at").first())
