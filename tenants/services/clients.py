"""The one bridge to dingtalk/: a ready SuiteApi per suite and a DingTalkClient per tenant.

Clients are pooled per process (one per suite, one per (suite, corp), one per internal app):
a suite's corp clients ride on its HTTP connection pool, internal apps share one pool per base
URL, and all of them share the Redis + PostgreSQL token store, so every process and machine
sees the same tokens. A pooled client is rebuilt when what it was built from changes (secret,
permanent code, base URL).
"""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings

from core import clock
from core.metrics import DINGTALK_CALL_SECONDS, DINGTALK_CALLS, TOKEN_FETCHES
from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials, CorpSecretCredentials, SuiteCredentials
from dingtalk.isv import SuiteApi
from dingtalk.tokens import Token, TokenManager
from dingtalk.transport import Transport
from tenants.errors import NoSuiteTicket, TenantInactive
from tenants.models import Suite, Tenant
from tenants.selectors.suites import suite_ticket_current
from tenants.selectors.tenants import tenant_permanent_code
from tenants.services.call_budget import call_budget_gate
from tenants.token_store import token_store

_lock = threading.Lock()
_suite_apis: dict[tuple, SuiteApi] = {}
_corp_clients: dict[tuple, DingTalkClient] = {}
_app_clients: dict[tuple, DingTalkClient] = {}
_app_transports: dict[str, Transport] = {}
# The egress gate every transport calls before a request (set by an app above this layer:
# messaging's limiter registers its shared egress budget in its AppConfig.ready).
_egress_gate = None


def egress_gate_set(gate) -> None:
    """Register gate(method, path), called before every DingTalk request from this process (it
    may raise dingtalk.errors.EgressLimited); None removes it."""
    global _egress_gate
    _egress_gate = gate


# DingTalk's token endpoints, by the kind of token they fetch (core.metrics.TOKEN_FETCHES).
_TOKEN_PATHS = {"gettoken": "app", "service/get_corp_token": "corp",
                "service/get_suite_token": "suite"}


def _observer(suite_key: str):
    """observe(path, errcode, seconds) for a transport of this suite ('' for internal apps):
    every DingTalk call counted by endpoint and errcode, token fetches by suite and outcome."""
    def observe(path: str, errcode: str, seconds: float) -> None:
        endpoint = path.strip("/")
        DINGTALK_CALLS.labels(endpoint=endpoint, errcode=errcode).inc()
        DINGTALK_CALL_SECONDS.labels(endpoint=endpoint).observe(seconds)
        kind = _TOKEN_PATHS.get(endpoint)
        if kind is not None:
            TOKEN_FETCHES.labels(kind=kind, suite=suite_key,
                                 outcome="ok" if errcode == "0" else errcode).inc()
    return observe


def _gate(method: str, path: str) -> None:
    gate = _egress_gate
    if gate is not None:
        gate(method, path)


def _fingerprint(*parts: str) -> str:
    # Secrets go into a digest only, so the pool's keys never hold them in clear.
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _no_ticket(suite_key: str) -> NoSuiteTicket:
    return NoSuiteTicket(
        f"DingTalk has not pushed a suite_ticket for suite {suite_key} yet: no signed call or "
        "suite token is possible until it does (check the suite's callback URL in the DingTalk "
        "developer console, or use its re-push button)",
        extra={"suite_key": suite_key},
    )


def _ticket_reader(suite_pk: int, suite_key: str):
    def ticket() -> str:
        # Read on every use: a new push supersedes the old ticket at DingTalk at once.
        value = suite_ticket_current(suite=Suite(pk=suite_pk))
        if not value:
            raise _no_ticket(suite_key)
        return value

    return ticket


def token_manager() -> TokenManager:
    """A TokenManager over the shared store (cheap: holds no state of its own).

    Waiters wait for the refresh lock as long as its holder may hold it (the lock's lease): a
    fetch that retries can take most of that, and a waiter that gave up earlier would fetch a
    second token for the same corp.
    """
    store = token_store()
    return TokenManager(store, lock_timeout=getattr(store, "lock_lease", 30.0),
                        clock=clock.time)


def suite_api_for(suite: Suite) -> SuiteApi:
    """A SuiteApi for the suite; NoSuiteTicket when DingTalk has not pushed a ticket yet."""
    if not suite_ticket_current(suite=suite):
        raise _no_ticket(suite.suite_key)
    base_url = settings.DINGTALK_BASE_URL
    new_api_url = settings.DINGTALK_NEW_API_BASE_URL or None
    key = (suite.pk, suite.suite_key, _fingerprint(suite.suite_secret), base_url, new_api_url)
    with _lock:
        api = _suite_apis.get(key)
        if api is None:
            creds = SuiteCredentials(suite.suite_key, suite.suite_secret,
                                     _ticket_reader(suite.pk, suite.suite_key))
            # The new-API transport reads this transport's gate and observer (dingtalk.newapi).
            api = SuiteApi(creds, token_manager(), base_url=base_url, clock=clock.time,
                           new_api_base_url=new_api_url)
            api.transport.gate = _gate  # its corp clients ride on this transport
            api.transport.observe = _observer(suite.suite_key)
            _suite_apis[key] = api
    return api


def corp_client_for(suite: Suite, corp_id: str, permanent_code: str | None) -> DingTalkClient:
    """A corp client by ids (the legacy permanent-code form only when a code is given)."""
    api = suite_api_for(suite)
    key = (id(api), corp_id, _fingerprint(permanent_code or ""))
    with _lock:
        client = _corp_clients.get(key)
        if client is None:
            # SuiteApi.corp_client survives a suite token DingTalk refuses on the legacy path.
            client = api.corp_client(corp_id, permanent_code)
            _corp_clients[key] = client
    return client


def app_client_for(tenant: Tenant) -> DingTalkClient:
    """An internal app's client: gettoken with its appkey + appsecret, or its corpsecret."""
    base_url = settings.DINGTALK_BASE_URL
    if tenant.appkey:
        creds = AppCredentials(tenant.appkey, tenant.appsecret)
        secret = tenant.appsecret
    else:
        creds = CorpSecretCredentials(tenant.corp_id, tenant.corpsecret)
        secret = tenant.corpsecret
    key = (creds.cache_key, _fingerprint(secret), base_url)
    with _lock:
        client = _app_clients.get(key)
        if client is None:
            transport = _app_transports.get(base_url)
            if transport is None:
                transport = _app_transports[base_url] = Transport(
                    base_url, gate=_gate, observe=_observer(""))
            client = DingTalkClient(creds, token_manager(), clock=clock.time,
                                    transport=transport)
            _app_clients[key] = client
    return client


def corp_client(tenant: Tenant) -> DingTalkClient:
    """The tenant's client whatever its status (event processing needs it for stopped apps);
    its calls count against the tenant's monthly call budget (services/call_budget.py)."""
    if tenant.suite_id is None:
        client = app_client_for(tenant)
    else:
        client = corp_client_for(tenant.suite, tenant.corp_id,
                                 tenant_permanent_code(tenant=tenant))
    client.caller.gate = call_budget_gate(tenant.pk)
    return client


def client_for(tenant: Tenant) -> DingTalkClient:
    """A ready DingTalkClient for an active tenant of either kind: the only way the apps reach
    DingTalk.

    Raises TenantInactive for a relieved, stopped or suspended tenant (an internal app can only
    be suspended), and NoSuiteTicket when DingTalk has not pushed a suite tenant's ticket yet.
    """
    if not tenant.is_active:
        reason = "suspended by an operator" if tenant.suspended else tenant.get_status_display()
        raise TenantInactive(
            f"tenant {tenant.corp_id} cannot call DingTalk: {reason}",
            extra={"corp_id": tenant.corp_id, "status": tenant.status,
                   "suspended": tenant.suspended},
        )
    return corp_client(tenant)


def corp_token_fetch(*, tenant: Tenant) -> Token:
    """The tenant's corp (or internal app's) token from the shared store, fetched once across
    processes if missing."""
    return corp_client(tenant).access_token()
