"""What each kind of callback event does to tenants (both push styles, and internal apps'
pushes); called by events.py.

Every handler returns (status, note) and may raise: dingtalk errors and ServiceErrors are
recorded by the caller. Handlers are idempotent, so a retried or re-delivered event is harmless.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from dingtalk.errors import ApiError
from dingtalk.events import (
    AppStateEvent,
    CorpUpdateEvent,
    Event,
    OrgSuiteAuthEvent,
    TmpAuthCodeEvent,
    parse_callback,
)
from dingtalk.isv import AuthInfo, SuiteApi
from dingtalk.repeat import retryable_error
from tenants.errors import AuthorizationLost
from tenants.event_receivers import receivers_for
from tenants.models import CallbackEvent, Suite, Tenant
from tenants.selectors.tenants import tenant_find, tenant_last_event_at
from tenants.services.clients import corp_client_for, suite_api_for
from tenants.services.tenants import (
    StaleEvent,
    event_time,
    tenant_authorize,
    tenant_refresh_auth_info,
    tenant_refresh_scopes,
    tenant_relieve,
    tenant_set_app_state,
    tenant_store_permanent_code,
    tenant_update_corp,
)

logger = logging.getLogger("tenants.events")

DONE = CallbackEvent.Status.DONE
IGNORED = CallbackEvent.Status.IGNORED
Outcome = tuple[str, str]


def handle_event(event: CallbackEvent) -> Outcome:
    """Dispatch a stored event by its kind (re-parsed from the stored payload)."""
    parsed = parse_callback(event.payload or {})[0]
    receivers = receivers_for(parsed.kind)
    if receivers:
        # An app above tenants acts on this kind (commerce: orders; directory: contact rows).
        return _run_receivers(receivers, event, parsed)
    if event.suite_id is None:
        # An internal app's push: its contact changes are kept as the record, URL checks were
        # answered on receipt; DingTalk pushes internal apps no lifecycle events to apply.
        if parsed.kind in _APP_KEPT:
            return DONE, ""
        return IGNORED, f"no handling for internal apps' events of kind {parsed.kind!r}"
    handler = _HANDLERS.get(parsed.kind)
    if handler is None:
        return IGNORED, f"no handling for events of kind {parsed.kind!r}"
    corp_id = parsed.corp_id or event.corp_id
    if corp_id and _is_stale(event.suite, corp_id, parsed.timestamp_ms):
        return IGNORED, "superseded: the tenant already applied a newer DingTalk event"
    try:
        return handler(event.suite, parsed)
    except StaleEvent:
        return IGNORED, "superseded: the tenant already applied a newer DingTalk event"


def _run_receivers(receivers, event: CallbackEvent, parsed: Event) -> Outcome:
    outcomes = [receiver(event=event, parsed=parsed) or (DONE, "") for receiver in receivers]
    if all(status == IGNORED for status, _ in outcomes):
        return IGNORED, "; ".join(note for _, note in outcomes if note)
    return DONE, "; ".join(note for status, note in outcomes if note and status != IGNORED)


def _is_stale(suite: Suite, corp_id: str, timestamp_ms: int | None) -> bool:
    """Cheap pre-check before any DingTalk call (the write re-checks under a row lock)."""
    when = event_time(timestamp_ms)
    if when is None:
        return False
    last = tenant_last_event_at(suite=suite, corp_id=corp_id)
    return last is not None and when < last


def _with_corp(info: AuthInfo, corp_id: str | None) -> AuthInfo:
    return info if info.corp_id else dataclasses.replace(info, corp_id=corp_id or "")


# HTTP push (legacy flow) ---------------------------------------------------------------------


def _trade_auth_code(suite: Suite, api: SuiteApi, ev: TmpAuthCodeEvent) -> tuple[str, str]:
    """(corp_id, permanent_code); a re-run reuses the code its first attempt stored."""
    try:
        answer = api.get_permanent_code(ev.auth_code)
    except ApiError as exc:
        if retryable_error(exc):
            raise  # throttled or busy: DingTalk did not trade the code; try again later
        # The tmp code is single-use: if an earlier attempt of this event traded it, go on.
        tenant = tenant_find(suite=suite, corp_id=ev.corp_id)
        when = event_time(ev.timestamp_ms)
        if tenant and tenant.permanent_code and when and tenant.last_event_at == when:
            return tenant.corp_id, tenant.permanent_code
        # Spent (42008) or refused with no code of ours: only a re-push from DingTalk helps.
        raise AuthorizationLost(
            f"get_permanent_code refused the tmp_auth_code (errcode {exc.errcode}) and no "
            "permanent code was stored for it", extra={"corp_id": ev.corp_id}) from exc
    corp_id = answer.corp_id or ev.corp_id or ""
    tenant_store_permanent_code(suite=suite, corp_id=corp_id, corp_name=answer.corp_name,
                                permanent_code=answer.permanent_code,
                                timestamp_ms=ev.timestamp_ms)
    return corp_id, answer.permanent_code


def _on_tmp_auth_code(suite: Suite, ev: TmpAuthCodeEvent) -> Outcome:
    api = suite_api_for(suite)
    corp_id, code = _trade_auth_code(suite, api, ev)
    api.activate_suite(corp_id, code)
    info = _with_corp(api.get_auth_info(corp_id, code), corp_id)
    # Scopes first, so the tenant appears complete in one write.
    scopes = dict(corp_client_for(suite, corp_id, code).auth.scopes().raw)
    tenant_authorize(suite=suite, info=info, scopes=scopes, timestamp_ms=ev.timestamp_ms,
                     permanent_code=code)
    return DONE, ""


def _on_change_auth(suite: Suite, ev: Event) -> Outcome:
    tenant = tenant_find(suite=suite, corp_id=ev.corp_id)
    if tenant is None or tenant.status == Tenant.Status.RELIEVED:
        return IGNORED, "change for a corp that is not authorized here"
    tenant_refresh_auth_info(tenant=tenant, timestamp_ms=ev.timestamp_ms)
    return DONE, ""


def _on_relieve(suite: Suite, ev: Event) -> Outcome:
    if not ev.corp_id:
        return IGNORED, "relieve without a corp id"
    tenant_relieve(suite=suite, corp_id=ev.corp_id, timestamp_ms=ev.timestamp_ms)
    return DONE, ""


# SyncHTTP (the auth info travels in the push) ------------------------------------------------


def _on_org_suite_auth(suite: Suite, ev: OrgSuiteAuthEvent) -> Outcome:
    info = _with_corp(AuthInfo.from_body(ev.auth_info), ev.corp_id)
    if not info.corp_id:
        return IGNORED, "auth push without a corp id"
    scopes = ev.auth_info.get("auth_scope")
    tenant_authorize(suite=suite, info=info, scopes=scopes if isinstance(scopes, dict) else None,
                     timestamp_ms=ev.timestamp_ms)
    return DONE, ""


def _on_app_state(suite: Suite, ev: AppStateEvent) -> Outcome:
    tenant = tenant_find(suite=suite, corp_id=ev.corp_id)
    if tenant is None:
        return IGNORED, "app state change for a corp unknown here"
    if ev.action == "scope_update":
        if tenant.status != Tenant.Status.AUTHORIZED:
            return IGNORED, "scope update for a tenant that is not authorized"
        tenant_refresh_scopes(tenant=tenant, timestamp_ms=ev.timestamp_ms)
        return DONE, ""
    tenant_set_app_state(suite=suite, corp_id=tenant.corp_id, action=ev.action,
                         timestamp_ms=ev.timestamp_ms)
    return DONE, ""


def _on_corp_update(suite: Suite, ev: CorpUpdateEvent) -> Outcome:
    if ev.action == "remove":
        return _on_relieve(suite, ev)
    if not (ev.data.get("corp_name") or ev.data.get("full_corp_name")):
        # The HTTP-push org_change carries only the CorpId: DingTalk's auth info has the names.
        return _on_change_auth(suite, ev)
    if tenant_update_corp(suite=suite, corp_id=ev.corp_id or "", data=ev.data,
                          timestamp_ms=ev.timestamp_ms) is None:
        return IGNORED, "corp update for a corp unknown here"
    return DONE, ""


def _kept(suite: Suite, ev: Event) -> Outcome:
    """Kept in the inbox as the record (orders, contact rows, tickets applied on receipt)."""
    return DONE, ""


_HANDLERS: dict[str, Callable[[Suite, Event], Outcome]] = {
    "tmp_auth_code": _on_tmp_auth_code,
    "change_auth": _on_change_auth,
    "suite_relieve": _on_relieve,
    "org_suite_auth": _on_org_suite_auth,
    "org_suite_change": _on_org_suite_auth,
    "org_suite_relieve": _on_relieve,
    "app_stop": _on_app_state,
    "app_restore": _on_app_state,
    "app_remove": _on_app_state,
    "app_scope_update": _on_app_state,
    "corp_update": _on_corp_update,
    "corp_remove": _on_corp_update,
    "market_order": _kept,
    "contact_user": _kept,
    "contact_dept": _kept,
    "contact_role": _kept,
    "suite_ticket": _kept,
    "check_url": _kept,
    "check_create_suite_url": _kept,
    "check_update_suite_url": _kept,
    "check_suite_license_code": _kept,
}

_APP_KEPT = frozenset({"contact_user", "contact_dept", "contact_role", "check_url"})
