"""Tenant lifecycle: create or update from DingTalk's auth info, app state, relieve, suspend.

DingTalk's pushes can arrive late and out of order, so every change driven by an event carries
DingTalk's own timestamp (ms) and is refused when the tenant already saw a newer event
(`Tenant.last_event_at` holds that time, to the millisecond): a relieve followed by a late
re-delivery of the older auth push never brings the tenant back.

Every transition other apps react to is announced after commit by a signal of
tenants/signals.py (authorized, changed, relieved, app stopped/restored, suspended/resumed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from core import clock
from dingtalk.isv import AuthInfo
from tenants.errors import StaleEvent, TenantInactive
from tenants.models import Suite, Tenant
from tenants.selectors.tenants import tenant_permanent_code
from tenants.services.clients import corp_client, suite_api_for
from tenants.services.lifecycle import tenant_data_revive, tenant_data_schedule
from tenants.services.tokens import tenant_tokens_drop
from tenants.signals import (
    tenant_app_restored,
    tenant_app_stopped,
    tenant_authorized,
    tenant_changed,
    tenant_relieved,
    tenant_resumed,
    tenant_suspended,
)

logger = logging.getLogger("tenants.tenants")

# Never copied into the plaintext auth_info column (permanent codes are kept encrypted apart).
_SECRET_KEYS = {"permanent_code", "ch_permanent_code", "errcode", "errmsg", "request_id"}


def _announce(signal, tenant: Tenant) -> None:
    """Send `signal` once the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: signal.send(sender=Tenant, tenant=tenant), robust=True)


def event_time(timestamp_ms: int | None) -> datetime | None:
    """DingTalk's ms timestamp as an aware datetime (exact to the ms in PostgreSQL)."""
    if timestamp_ms is None:
        return None
    return datetime.fromtimestamp(int(timestamp_ms) / 1000, tz=UTC)


def _claim_newer(tenant: Tenant, timestamp_ms: int | None) -> None:
    """Refuse an event older than the tenant's last one; otherwise remember its time."""
    when = event_time(timestamp_ms)
    if when is None:
        return
    if tenant.last_event_at is not None and when < tenant.last_event_at:
        raise StaleEvent(
            f"tenant {tenant.corp_id} already applied a newer event",
            extra={"corp_id": tenant.corp_id, "event_ms": timestamp_ms},
        )
    tenant.last_event_at = when


def _clean(data: Mapping[str, Any] | None) -> dict:
    return {k: v for k, v in (data or {}).items() if k not in _SECRET_KEYS}


def _pick_agent(suite: Suite, info: AuthInfo):
    """The suite's app among the corp's agents: by app id when registered, else the first."""
    for agent in info.agents:
        if suite.app_id and str(agent.app_id) == str(suite.app_id):
            return agent
    return info.agents[0] if info.agents else None


def _apply_info(tenant: Tenant, info: AuthInfo, scopes: Mapping[str, Any] | None) -> None:
    agent = _pick_agent(tenant.suite, info)
    tenant.corp_name = info.corp_name or tenant.corp_name
    tenant.full_corp_name = info.full_corp_name or tenant.full_corp_name
    tenant.auth_user_id = info.auth_user_id or tenant.auth_user_id
    if agent is not None:
        tenant.agent_id, tenant.app_id = agent.agent_id, agent.app_id
    raw = _clean(info.raw)
    raw.pop("auth_scope", None)
    tenant.auth_info = raw
    if scopes is not None:
        tenant.auth_scopes = _clean(scopes)


def tenant_authorize(
    *,
    suite: Suite,
    info: AuthInfo,
    scopes: Mapping[str, Any] | None = None,
    timestamp_ms: int | None = None,
    permanent_code: str | None = None,
) -> Tenant:
    """Create or update the tenant from DingTalk's auth info; it is authorized (again).

    Raises StaleEvent when the tenant already saw a newer event (e.g. a later relieve).
    """
    with transaction.atomic():
        tenant, _ = Tenant.objects.select_for_update().get_or_create(
            suite=suite, corp_id=info.corp_id
        )
        _claim_newer(tenant, timestamp_ms)
        _apply_info(tenant, info, scopes)
        newly = tenant.status != Tenant.Status.AUTHORIZED or tenant.authorized_at is None
        if newly:
            tenant.authorized_at = clock.now()
        tenant.status = Tenant.Status.AUTHORIZED
        tenant.relieved_at = None
        tenant_data_revive(tenant=tenant)
        if permanent_code:
            tenant.permanent_code = permanent_code
        tenant.save()
        _announce(tenant_authorized if newly else tenant_changed, tenant)
    logger.info("tenant %s of suite %s authorized", tenant.corp_id, suite.suite_key)
    return tenant


def tenant_store_permanent_code(
    *, suite: Suite, corp_id: str, corp_name: str, permanent_code: str, timestamp_ms: int | None
) -> Tenant:
    """Keep a freshly traded permanent code at once: the tmp_auth_code cannot be spent twice.

    A new tenant starts AUTHORIZING, so no app calls DingTalk for it before activation ends.
    """
    with transaction.atomic():
        tenant, _ = Tenant.objects.select_for_update().get_or_create(
            suite=suite, corp_id=corp_id, defaults={"status": Tenant.Status.AUTHORIZING})
        _claim_newer(tenant, timestamp_ms)
        tenant.permanent_code = permanent_code
        tenant.corp_name = corp_name or tenant.corp_name
        # The corp came back: no sweep may delete (or blank the code of) this tenant now.
        tenant_data_revive(tenant=tenant)
        tenant.save()
    return tenant


def tenant_record_auth_info(
    *, tenant: Tenant, info: AuthInfo, scopes: Mapping[str, Any] | None,
    timestamp_ms: int | None = None,
) -> Tenant:
    """Store re-read auth info and scopes without touching the tenant's status."""
    with transaction.atomic():
        # of=self: the suite is on the nullable side of the join (internal apps have none).
        locked = (Tenant.objects.select_for_update(of=("self",)).select_related("suite")
                  .get(pk=tenant.pk))
        _claim_newer(locked, timestamp_ms)
        _apply_info(locked, info, scopes)
        locked.save()
        _announce(tenant_changed, locked)
    return locked


def tenant_refresh_auth_info(*, tenant: Tenant, timestamp_ms: int | None = None) -> Tenant:
    """Re-read the tenant's auth info (and, while authorized, its scopes) and store them.

    Used by an operator's refresh and by DingTalk's change events (`timestamp_ms` given). An
    internal app has no auth info (no suite authorized it): its scopes are all there is.
    """
    if tenant.suite_id is None:
        return tenant_refresh_scopes(tenant=tenant, timestamp_ms=timestamp_ms)
    if tenant.status == Tenant.Status.RELIEVED:
        raise TenantInactive(f"tenant {tenant.corp_id} is relieved: no auth info to read",
                             extra={"corp_id": tenant.corp_id})
    info = suite_api_for(tenant.suite).get_auth_info(
        tenant.corp_id, tenant_permanent_code(tenant=tenant))
    if not info.corp_id:
        info = dataclasses.replace(info, corp_id=tenant.corp_id)
    scopes = None
    if tenant.status == Tenant.Status.AUTHORIZED:
        scopes = dict(corp_client(tenant).auth.scopes().raw)
    return tenant_record_auth_info(tenant=tenant, info=info, scopes=scopes,
                                   timestamp_ms=timestamp_ms)


def tenant_refresh_scopes(*, tenant: Tenant, timestamp_ms: int | None = None) -> Tenant:
    """Re-read what the tenant's token may see (auth/scopes) and store it."""
    scopes = dict(corp_client(tenant).auth.scopes().raw)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        _claim_newer(locked, timestamp_ms)
        locked.auth_scopes = _clean(scopes)
        locked.save()
        _announce(tenant_changed, locked)
    return locked


def tenant_relieve(*, suite: Suite, corp_id: str, timestamp_ms: int | None = None) -> Tenant:
    """The corp de-authorized the suite: mark it relieved, drop its tokens and permanent code.

    A relieve for a corp we never saw is recorded too, so a late auth push stays refused.
    Its data is scheduled for deletion or kept, per the suite's policy (services/lifecycle.py).
    Sends `tenant_relieved` after commit.
    """
    with transaction.atomic():
        tenant, created = Tenant.objects.select_for_update().get_or_create(
            suite=suite, corp_id=corp_id, defaults={"status": Tenant.Status.RELIEVED}
        )
        _claim_newer(tenant, timestamp_ms)
        newly = created or tenant.status != Tenant.Status.RELIEVED
        tenant.status = Tenant.Status.RELIEVED
        tenant.relieved_at = clock.now()
        tenant.permanent_code = ""
        if newly:  # a repeated relieve never reschedules (nor revives deleted data)
            tenant_data_schedule(tenant=tenant)
        tenant.save()
        # In the same transaction: nobody sees a relieved tenant that still has tokens.
        tenant_tokens_drop(tenant=tenant)
        _announce(tenant_relieved, tenant)
    logger.info("tenant %s of suite %s relieved", corp_id, suite.suite_key)
    return tenant


_APP_STATES = {
    "stop": (Tenant.Status.AUTHORIZED, Tenant.Status.APP_STOPPED),
    # Removing the app keeps the authorization: the corp can add it back.
    "remove": (Tenant.Status.AUTHORIZED, Tenant.Status.APP_STOPPED),
    "restore": (Tenant.Status.APP_STOPPED, Tenant.Status.AUTHORIZED),
}


_APP_STATE_SIGNALS = {Tenant.Status.APP_STOPPED: tenant_app_stopped,
                      Tenant.Status.AUTHORIZED: tenant_app_restored}


def tenant_set_app_state(
    *, suite: Suite, corp_id: str, action: str, timestamp_ms: int | None = None
) -> Tenant | None:
    """Apply an app stop / remove / restore; None when the corp is unknown to us."""
    from_status, to_status = _APP_STATES[action]
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(suite=suite, corp_id=corp_id).first()
        if tenant is None:
            return None
        _claim_newer(tenant, timestamp_ms)
        # Never lifts a relieve: only the stopped <-> authorized pair moves here.
        if tenant.status == from_status:
            tenant.status = to_status
            _announce(_APP_STATE_SIGNALS[to_status], tenant)
        tenant.save()
    return tenant


def tenant_update_corp(
    *, suite: Suite, corp_id: str, data: Mapping[str, Any], timestamp_ms: int | None = None
) -> Tenant | None:
    """The corp's names changed (SyncHTTP biz_type 16); None when the corp is unknown to us."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(suite=suite, corp_id=corp_id).first()
        if tenant is None:
            return None
        _claim_newer(tenant, timestamp_ms)
        tenant.corp_name = data.get("corp_name") or tenant.corp_name
        tenant.full_corp_name = data.get("full_corp_name") or tenant.full_corp_name
        tenant.save()
        _announce(tenant_changed, tenant)
    return tenant


def tenant_suspend(*, tenant: Tenant) -> Tenant:
    """Put an operator's hold on the tenant: client_for refuses it until resumed."""
    with transaction.atomic():
        changed = Tenant.objects.filter(pk=tenant.pk, suspended=False).update(
            suspended=True, updated_at=clock.now())
        tenant.refresh_from_db()
        if changed:
            _announce(tenant_suspended, tenant)
    logger.info("tenant %s suspended by an operator", tenant.corp_id)
    return tenant


def tenant_resume(*, tenant: Tenant) -> Tenant:
    """Lift the operator's hold (DingTalk's own status is untouched)."""
    with transaction.atomic():
        changed = Tenant.objects.filter(pk=tenant.pk, suspended=True).update(
            suspended=False, updated_at=clock.now())
        tenant.refresh_from_db()
        if changed:
            _announce(tenant_resumed, tenant)
    logger.info("tenant %s resumed by an operator", tenant.corp_id)
    return tenant
