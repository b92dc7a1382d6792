"""dd.config for an H5 page: the tenant's agent id and corp id, a nonce, a timestamp, and the
signature of the page URL with the tenant's cached jsapi_ticket (PROTOCOL-ISV 2.2)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings

from core import clock
from dingtalk import jsapi
from identity.errors import JsapiAgentUnknown, JsapiInputInvalid
from identity.jsapi_tickets import CachedTicket, jsapi_ticket_get, jsapi_ticket_invalidate
from tenants.errors import TenantInactive
from tenants.models import Tenant

logger = logging.getLogger("identity.jsapi")

NONCE_MAX_LENGTH = 64
# A ticket fetched because a dd.config was refused is not replaced again on a report for this
# long: any page load yields a config that could be reported, and each replacement is a
# DingTalk call (throttled when frequent) that under the older behaviour kills every
# signature made with the old ticket.
JSAPI_REJECTION_COOLDOWN_S = 60
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class JsapiConfig:
    """What the page passes to dd.config (and `url`, the page URL exactly as signed)."""

    agent_id: int
    corp_id: str
    timestamp: int
    nonce_str: str
    signature: str
    url: str
    hash: str


@dataclass(frozen=True)
class RejectedConfig:
    """A dd.config the container refused (dd.error 52011/52013), as the page passed it."""

    timestamp: int
    nonce_str: str
    signature: str


def _signed_url(url: object) -> str:
    try:
        return jsapi.normalize_url(url)  # type: ignore[arg-type]
    except jsapi.JsapiUrlError as exc:
        raise JsapiInputInvalid(
            f"url must be the page's own http(s) URL (location.href): {exc}",
            extra={"field": "url"}) from None


def _check_nonce(nonce: object) -> str:
    if (not isinstance(nonce, str) or not nonce or len(nonce) > NONCE_MAX_LENGTH
            or not nonce.isascii() or not nonce.isprintable() or "&" in nonce):
        raise JsapiInputInvalid(
            f"nonceStr must be 1-{NONCE_MAX_LENGTH} printable ASCII characters without '&'",
            extra={"field": "nonceStr"})
    return nonce


def _check_timestamp(timestamp: object) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not (
            0 <= timestamp < 10**14):
        raise JsapiInputInvalid("timeStamp must be a whole number of seconds or milliseconds",
                                extra={"field": "timeStamp"})
    return timestamp


def _check_tenant(tenant: Tenant) -> int:
    if not tenant.is_active:
        # The same refusal client_for gives: a cached ticket must not outlive the tenant.
        reason = "suspended by an operator" if tenant.suspended else tenant.get_status_display()
        raise TenantInactive(
            f"tenant {tenant.corp_id} cannot sign dd.config: {reason}",
            extra={"corp_id": tenant.corp_id, "status": tenant.status,
                   "suspended": tenant.suspended})
    if tenant.agent_id is None:
        raise JsapiAgentUnknown(
            "the tenant has no agent id yet (its auth info has not been read), and dd.config "
            "must name the app", extra={"corp_id": tenant.corp_id})
    return tenant.agent_id


def jsapi_config(*, tenant: Tenant, url: str, nonce: str | None = None,
                 timestamp: int | None = None,
                 rejected: RejectedConfig | None = None) -> JsapiConfig:
    """Sign `url` for dd.config with the tenant's ticket (cached; fetched once across processes).

    `rejected` is a config the container refused: if it was signed with the ticket still
    cached, that ticket is dropped (by one caller only) and a fresh one fetched first.
    Raises JsapiInputInvalid (400), TenantInactive (409), JsapiAgentUnknown (409).
    """
    signed_url = _signed_url(url)
    nonce_str = _check_nonce(nonce if nonce is not None else _new_nonce())
    stamp = _check_timestamp(timestamp if timestamp is not None else int(clock.time()))
    agent_id = _check_tenant(tenant)
    algorithm = settings.IDENTITY_JSAPI_SIGNATURE_HASH
    cached = jsapi_ticket_get(tenant=tenant)
    if rejected is not None and _signed_with(rejected, cached.ticket, signed_url):
        cached = _replace_refused(tenant, cached)
    signature = jsapi.sign(ticket=cached.ticket, nonce_str=nonce_str, timestamp=stamp,
                           url=signed_url, algorithm=algorithm)
    return JsapiConfig(agent_id=agent_id, corp_id=tenant.corp_id, timestamp=stamp,
                       nonce_str=nonce_str, signature=signature, url=signed_url, hash=algorithm)


def _replace_refused(tenant: Tenant, cached: CachedTicket) -> CachedTicket:
    """Drop a refused ticket (once across callers) and fetch another, unless it replaced a
    refused one itself less than JSAPI_REJECTION_COOLDOWN_S ago."""
    if cached.forced and clock.time() - cached.fetched < JSAPI_REJECTION_COOLDOWN_S:
        logger.warning("dd.config refused again for %s within %d s of replacing its ticket; "
                       "kept", tenant.corp_id, JSAPI_REJECTION_COOLDOWN_S)
        return cached
    logger.info("dd.config refused for %s with the cached ticket; replacing it",
                tenant.corp_id)
    jsapi_ticket_invalidate(tenant=tenant, cached=cached)
    return jsapi_ticket_get(tenant=tenant, forced=True)


def _signed_with(rejected: RejectedConfig, ticket: str, url: str) -> bool:
    """Whether the refused config is this ticket's signature of the url (either hash): only
    then is the ticket to blame, and only a config dingsuite made can prove it."""
    return any(jsapi.verify(rejected.signature, ticket=ticket, nonce_str=rejected.nonce_str,
                            timestamp=rejected.timestamp, url=url, algorithm=algorithm)
               for algorithm in jsapi.HASHES)


def _new_nonce() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(16))
