"""Tenant-level token services: an operator's refresh, and dropping a relieved tenant's tokens.

The stores themselves (Redis + PostgreSQL, and the fallbacks) live in tenants/token_store.py.
"""

from __future__ import annotations

import logging

from dingtalk.tokens import app_token_key, corpsecret_token_key, isv_corp_token_key
from tenants.errors import TenantInactive
from tenants.models import AccessToken, Tenant
from tenants.services.clients import corp_token_fetch
from tenants.token_store import token_store

logger = logging.getLogger("tenants.tokens")


def tenant_refresh_token(*, tenant: Tenant) -> None:
    """Drop the tenant's cached corp token and fetch a new one now (an operator's action)."""
    if tenant.status == Tenant.Status.RELIEVED:
        raise TenantInactive(f"tenant {tenant.corp_id} is relieved: DingTalk issues no token",
                             extra={"corp_id": tenant.corp_id})
    token_store().delete(tenant_token_key(tenant=tenant))
    corp_token_fetch(tenant=tenant)
    logger.info("tenant %s: corp token refreshed", tenant.corp_id)


def tenant_tokens_drop(*, tenant: Tenant) -> None:
    """Forget every cached token of the tenant, in Redis and in the database."""
    token_store().delete(tenant_token_key(tenant=tenant))
    AccessToken.objects.filter(tenant=tenant).delete()


def tenant_token_key(*, tenant: Tenant) -> str:
    """The dingtalk cache key of the tenant's corp token (an internal app's: its own)."""
    if tenant.suite_id is None:
        return app_token_key(tenant.appkey) if tenant.appkey else corpsecret_token_key(
            tenant.corp_id)
    return isv_corp_token_key(tenant.suite.suite_key, tenant.corp_id)
