"""The jsapi_ticket of each tenant's app, cached in the shared token store and fetched once
across every process (PROTOCOL-ISV 2.1).

The ticket lives where tokens live (tenants.token_store: Redis for the copy and the per-key
fetch lock, the PostgreSQL advisory lock without Redis) under its own keys:
`jsapi:suite:<suite_key>:corp:<corp_id>` (an ISV's ticket is per suite and corp) and
`jsapi:app:<appkey>` / `jsapi:corpsecret:<corp_id>` (internal apps). dingtalk's TokenManager
gives the single flight and the refresh ahead of expiry: under DingTalk's older behaviour a
second fetch replaces the ticket and breaks every page signed with the first (52013), so it
must never be fetched per request.

DingTalk also kills a ticket 24 h after it was made however often it was extended; the cache
remembers when it first saw a ticket (`born`) and retires it then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings

from core import clock
from dingtalk.tokens import Token, TokenManager
from tenants.errors import TenantInactive
from tenants.models import Tenant
from tenants.services.clients import client_for
from tenants.token_store import token_store

# KB-JS/0003: the ticket dies 24 h after it was generated, extensions or not.
TICKET_MAX_AGE_S = 86_400.0


@dataclass(frozen=True)
class CachedTicket:
    """A cached ticket, when this cache first saw it, and the stored value (for invalidation);
    when it was fetched, and whether a refused dd.config made that fetch (`forced`)."""

    ticket: str = field(repr=False)
    born: float
    stored: str = field(repr=False)
    fetched: float = 0.0
    forced: bool = False

    def __repr__(self) -> str:
        return f"CachedTicket(ticket=***, born={self.born!r}, forced={self.forced!r})"


def jsapi_ticket_key(tenant: Tenant) -> str:
    """The store key of the tenant's ticket: per (suite, corp), per appkey, or per corp for a
    legacy corpsecret app."""
    if tenant.suite_id is not None:
        return f"jsapi:suite:{tenant.suite.suite_key}:corp:{tenant.corp_id}"
    if tenant.appkey:
        return f"jsapi:app:{tenant.appkey}"
    return f"jsapi:corpsecret:{tenant.corp_id}"


def ticket_manager() -> TokenManager:
    """A TokenManager over the shared store with the jsapi refresh-ahead (holds no state)."""
    store = token_store()
    return TokenManager(store, refresh_ahead=settings.IDENTITY_JSAPI_REFRESH_AHEAD_S,
                        lock_timeout=getattr(store, "lock_lease", 30.0), clock=clock.time)


def _decode(value: str) -> CachedTicket | None:
    try:
        data = json.loads(value)
        return CachedTicket(ticket=str(data["ticket"]), born=float(data["born"]), stored=value,
                            fetched=float(data.get("fetched", 0.0)),
                            forced=data.get("forced") is True)
    except (ValueError, TypeError, KeyError):
        return None  # not ours (or from an older layout): treated as missing


def _authorization(tenant: Tenant) -> tuple[str, object] | None:
    """The tenant's authorization as the database has it now: (status, authorized_at)."""
    return Tenant.objects.filter(pk=tenant.pk).values_list("status", "authorized_at").first()


def _fetcher(tenant: Tenant, key: str, manager: TokenManager, forced: bool, seen: list):
    def fetch() -> Token:
        # Read before the DingTalk call: the authorization this ticket is fetched under.
        seen.append(_authorization(tenant))
        answer = client_for(tenant).jsapi.ticket()
        now = clock.time()
        current = manager.store.get(key)
        old = _decode(current.value) if current is not None else None
        # The same ticket again (current behaviour: extended) keeps the age it already had.
        born = old.born if old is not None and old.ticket == answer.ticket else now
        # expires_at is shifted by the refresh-ahead at the 24 h cap, so the manager's margin
        # falls exactly on the death: a fetch before it would only get the same ticket back.
        expires_at = min(now + answer.expires_in,
                         born + TICKET_MAX_AGE_S + manager.refresh_ahead)
        value = json.dumps({"ticket": answer.ticket, "born": born, "fetched": now,
                            "forced": forced}, separators=(",", ":"))
        return Token(value=value, expires_at=expires_at)

    return fetch


def _drop_if_outlived(tenant: Tenant, key: str, manager: TokenManager, token: Token,
                      seen: tuple | None) -> bool:
    """After this process stored a ticket: drop it again when a relieve (or a relieve and a
    re-authorization) committed since the fetch began; True when it was dropped.

    A relieve drops the ticket once it committed; a fetch that began before it stores after
    that drop. Checked after the store, one of the two always sees the other: either this
    read sees the relieve, or the relieve's drop comes after the store.
    """
    now = _authorization(tenant)
    if now is not None and now == seen and now[0] != Tenant.Status.RELIEVED:
        return False
    manager.invalidate(key, token.value)
    return True


def jsapi_ticket_get(*, tenant: Tenant, forced: bool = False, _again: bool = True
                     ) -> CachedTicket:
    """The tenant's current ticket: cached, or fetched once (under the store's lock) across
    every process when missing, about to expire or retired; `forced`: a fetch this makes
    replaces a ticket a container refused. TenantInactive when it was relieved meanwhile."""
    manager = ticket_manager()
    key = jsapi_ticket_key(tenant)
    seen: list = []
    token = manager.get(key, _fetcher(tenant, key, manager, forced, seen))
    cached = _decode(token.value)
    if cached is None:
        manager.invalidate(key, token.value)
        token = manager.get(key, _fetcher(tenant, key, manager, forced, seen))
        cached = _decode(token.value)
        assert cached is not None  # a value this module just wrote
    if seen and _drop_if_outlived(tenant, key, manager, token, seen[-1]):
        current = Tenant.objects.select_related("suite").get(pk=tenant.pk)
        if current.status == Tenant.Status.RELIEVED or not _again:
            raise TenantInactive(
                f"tenant {tenant.corp_id} was relieved (or authorized anew) while its "
                "jsapi_ticket was fetched",
                extra={"corp_id": tenant.corp_id, "status": current.status})
        # Authorized again meanwhile: a ticket fetched under the new authorization, once.
        return jsapi_ticket_get(tenant=current, forced=forced, _again=False)
    return cached


def jsapi_ticket_invalidate(*, tenant: Tenant, cached: CachedTicket) -> None:
    """Drop the ticket a container refused, only if it is still the stored one: of many
    processes reporting the same refusal one drops it, and the next caller refetches once."""
    ticket_manager().invalidate(jsapi_ticket_key(tenant), cached.stored)


def jsapi_ticket_drop(*, tenant: Tenant) -> None:
    """Forget the tenant's ticket in Redis and the database: at its relieve (a ticket must not
    outlive the authorization it was fetched under) and at its data's deletion."""
    token_store().delete(jsapi_ticket_key(tenant))
