"""Reads about internal apps: lookup by their key (also cached per process for the callback).

An internal app's key is its appkey, or, for a legacy corpsecret app (which has none), its corp
id: the key names its callback URL (/callbacks/apps/<key>/) and its token.
"""

from django.db.models import Q

from core.cache import ProcessCache
from tenants.errors import TenantNotFound
from tenants.models import Tenant


def app_find(*, app_key: str) -> Tenant | None:
    """The internal app registered under `app_key` (appkey, or a corpsecret app's corp id)."""
    if not app_key:
        return None
    matches = list(Tenant.objects.filter(
        Q(appkey=app_key) | Q(appkey="", corp_id=app_key), kind=Tenant.Kind.INTERNAL_APP,
    )[:2])
    # app_register keeps the two namespaces apart; an appkey wins if they ever met.
    matches.sort(key=lambda tenant: tenant.appkey != app_key)
    return matches[0] if matches else None


def app_get(*, app_key: str) -> Tenant:
    """The internal app registered under `app_key`; TenantNotFound otherwise."""
    tenant = app_find(app_key=app_key)
    if tenant is None:
        raise TenantNotFound("no internal app is registered under this key",
                             extra={"app_key": app_key})
    return tenant


# Only the callback endpoint reads through it, and it re-reads the database before refusing a
# push, so rotated secrets never cause a refusal.
_CACHE: ProcessCache[Tenant] = ProcessCache(max_age=30.0)


def app_get_cached(*, app_key: str) -> tuple[Tenant, bool]:
    """(tenant, came_from_cache): saves a query and two decryptions per callback."""
    return _CACHE.get_or_load(app_key, lambda: app_get(app_key=app_key))


def app_cache_forget(*, app_key: str) -> None:
    _CACHE.forget(app_key)
