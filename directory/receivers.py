"""The directory's receivers of tenants' lifecycle signals: what each asks of the mirror.

They run after the tenant's change committed, in the sending process: they only queue work.
"""

from __future__ import annotations

from directory.models import DirectorySync
from directory.services.sync import sync_request, sync_stop
from directory.services.sync_walk import scope_digest


def on_tenant_authorized(sender, tenant, **kwargs) -> None:
    """A corp authorized the suite: mirror it."""
    sync_request(tenant=tenant, reason="authorized")


def on_tenant_changed(sender, tenant, **kwargs) -> None:
    """Auth info, scopes or corp names changed: a scope the last walk did not start from
    (biz_type 4 change, biz_type 7 scope update) asks for a sync; a renamed corp does not.
    DingTalk sends no per-user events for scope changes (PROTOCOL-ISV 4.1)."""
    if not tenant.is_active:
        return
    org = (tenant.auth_scopes or {}).get("auth_org_scopes")
    sync = DirectorySync.objects.filter(tenant=tenant).only("scope_digest").first()
    if sync is None:
        sync_request(tenant=tenant, reason="changed")
        return
    if not isinstance(org, dict):
        return
    digest = scope_digest(org.get("authed_dept") or (), org.get("authed_user") or ())
    if digest != sync.scope_digest:
        sync_request(tenant=tenant, reason="scope_change")


def on_tenant_active_again(sender, tenant, **kwargs) -> None:
    """The corp's admin restored the app, or an operator lifted a hold: pushed rows were
    ignored while it was inactive, so a sync catches up with what they carried."""
    if tenant.is_active and DirectorySync.objects.filter(tenant=tenant).exists():
        sync_request(tenant=tenant, reason="active_again")


def on_tenant_relieved(sender, tenant, **kwargs) -> None:
    """The corp removed the suite: stop syncing (its rows stay for the data lifecycle)."""
    sync_stop(tenant=tenant, reason="tenant relieved")
