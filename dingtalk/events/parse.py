"""Turning decrypted callback JSON (HTTP push or SyncHTTP rows) into typed events."""

from __future__ import annotations

import json
from typing import Any

from dingtalk.events.types import (
    AppStateEvent,
    AuthChangeEvent,
    ContactEvent,
    CorpUpdateEvent,
    Event,
    LicenseCodeEvent,
    MarketOrderEvent,
    MarketRefundEvent,
    MarketServiceEvent,
    MarketTryoutEvent,
    OrgSuiteAuthEvent,
    SuiteRelieveEvent,
    SuiteTicketEvent,
    TmpAuthCodeEvent,
    UnknownEvent,
    UrlCheckEvent,
)
from dingtalk.events.values import (
    HOSTILE,
    as_id,
    as_int,
    as_timestamp,
    digest,
    id_tuple,
    short_repr,
)

_MAX_KEY = 255
SYNC_PUSH_TYPES = frozenset({"SYNC_HTTP_PUSH_HIGH", "SYNC_HTTP_PUSH_MEDIUM"})

# DingTalk event name (HTTP EventType or SyncHTTP syncAction) -> (kind, action).
SYNC_ACTIONS: dict[str, tuple[str, str]] = {
    "org_suite_auth": ("org_suite_auth", "auth"),
    "org_suite_change": ("org_suite_change", "change"),
    "org_suite_relieve": ("org_suite_relieve", "relieve"),
    "org_micro_app_stop": ("app_stop", "stop"),
    "org_micro_app_restore": ("app_restore", "restore"),
    "org_micro_app_remove": ("app_remove", "remove"),
    "org_micro_app_scope_update": ("app_scope_update", "scope_update"),
    "org_update": ("corp_update", "update"),
    "org_change": ("corp_update", "update"),
    "org_remove": ("corp_remove", "remove"),
    "market_order": ("market_order", "order"),
    # PROTOCOL-ISV 3.2: biz_type 37 (syncAction, or its eventType spelling), 212 and 63.
    "market_service_open": ("market_service", "open"),
    "market_service_close": ("market_service", "close"),
    "subscription_open": ("market_service", "open"),
    "subscription_close": ("market_service", "close"),
    "market_order_refund_event": ("market_refund", "refund"),
    "goods_tryout": ("market_tryout", "tryout"),
}

# Market rows whose biz_data names its action as EventType/eventType (63's documented form) or
# not at all: the biz_type says what it is. 37 has two actions, so it must name one.
_MARKET_BIZ_ACTIONS: dict[int, str] = {
    17: "market_order", 63: "goods_tryout", 212: "market_order_refund_event"}

# Contact event name -> (object_type, action).
CONTACT_ACTIONS: dict[str, tuple[str, str]] = {
    "user_add_org": ("user", "add"),
    "user_modify_org": ("user", "modify"),
    "user_leave_org": ("user", "leave"),
    "user_active_org": ("user", "active"),
    "user_dept_change": ("user", "dept_change"),
    "user_role_change": ("user", "role_change"),
    "org_admin_add": ("user", "admin_add"),
    "org_admin_remove": ("user", "admin_remove"),
    "label_user_change": ("user", "label_change"),
    "org_dept_create": ("dept", "create"),
    "org_dept_modify": ("dept", "modify"),
    "org_dept_remove": ("dept", "remove"),
    "org_role_add": ("role", "create"),
    "org_role_modify": ("role", "modify"),
    "org_role_remove": ("role", "remove"),
}


def parse_callback(plaintext: str | dict[str, Any]) -> list[Event]:
    """Events of one decrypted callback: one per HTTP push, one per SyncHTTP row.

    Never raises: what cannot be read becomes an UnknownEvent.
    """
    try:
        return _parse(plaintext)
    except HOSTILE as error:
        text = plaintext if isinstance(plaintext, str) else short_repr(plaintext)
        # raw holds an escaped excerpt: the text itself may hold NUL or lone surrogates,
        # which PostgreSQL refuses to store.
        return [_unknown({"plaintext": short_repr(text)[:1000]},
                         f"unreadable payload ({type(error).__name__})",
                         key_prefix="bad", dedupe_key=f"bad:{digest(text, 32)}")]


def _parse(plaintext: str | dict[str, Any]) -> list[Event]:
    payload = _load(plaintext)
    if payload is None:
        raw = {"plaintext": plaintext if isinstance(plaintext, str) else short_repr(plaintext)}
        return [_unknown(raw, "payload is not a JSON object", key_prefix="bad")]
    event_type = payload.get("EventType")
    if isinstance(event_type, str) and event_type in SYNC_PUSH_TYPES:
        rows = payload.get("bizData")
        if not isinstance(rows, list):
            return [_unknown(payload, "bizData is not a list", key_prefix="bad")]
        return [_parse_row_safely(row) for row in rows]
    if "biz_type" in payload and "EventType" not in payload:
        return [_parse_row_safely(payload)]
    return [_parse_http(payload)]


def _load(plaintext: str | dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(plaintext, dict):
        return plaintext
    try:
        value = json.loads(plaintext)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _bounded(key: str) -> str:
    if len(key) <= _MAX_KEY:
        return key
    return f"{key.split(':', 1)[0]}:{digest(key, 64)}"


def _unknown(raw: Any, reason: str, *, key_prefix: str, **common: Any) -> UnknownEvent:
    common.setdefault("dedupe_key", _bounded(f"{key_prefix}:{digest(raw, 32)}"))
    return UnknownEvent(raw=raw if isinstance(raw, dict) else {"value": raw}, reason=reason,
                        **common)


# HTTP push -----------------------------------------------------------------------------------


def _parse_http(payload: dict[str, Any]) -> Event:
    event_type = payload.get("EventType")
    corp_id = as_id(payload.get("AuthCorpId") or payload.get("CorpId")
                    or payload.get("corpId") or payload.get("buyCorpId"))
    timestamp = as_timestamp(payload.get("TimeStamp") or payload.get("EventTime"))
    common = {
        "suite_key": as_id(payload.get("SuiteKey") or payload.get("suiteKey")),
        "corp_id": corp_id,
        "timestamp_ms": timestamp,
        "dedupe_key": _bounded(
            f"http:{as_id(event_type) or ''}:{corp_id or ''}:{timestamp or ''}"
            f":{digest(payload)}"),
        "raw": payload,
    }
    if not isinstance(event_type, str):
        return UnknownEvent(reason="no EventType", **common)
    if as_id(event_type) is None:
        return UnknownEvent(reason="EventType is not a sane name", **common)
    builder = _HTTP_BUILDERS.get(event_type)
    if builder is not None:
        return builder(payload, common)
    if event_type in CONTACT_ACTIONS:
        object_type, action = CONTACT_ACTIONS[event_type]
        ids = (payload.get("UserId") or payload.get("userId") or payload.get("DeptId")
               or payload.get("deptId") or payload.get("RoleId") or payload.get("roleId"))
        return ContactEvent(kind=f"contact_{object_type}", object_type=object_type,
                            action=action, ids=id_tuple(ids), data=payload, **common)
    if event_type in SYNC_ACTIONS:
        return _from_action(event_type, payload, common, biz_id=None)
    return UnknownEvent(event_type=event_type, reason="unknown EventType", **common)


def _http_url_check(payload: dict[str, Any], common: dict[str, Any]) -> Event:
    return UrlCheckEvent(kind=payload["EventType"], random=as_id(payload.get("Random")),
                         test_suite_key=as_id(payload.get("TestSuiteKey")), **common)


def _http_market(payload: dict[str, Any], common: dict[str, Any]) -> Event:
    return MarketOrderEvent(order_id=as_id(payload.get("orderId")), data=payload, **common)


_HTTP_BUILDERS = {
    "check_url": _http_url_check,
    "check_create_suite_url": _http_url_check,
    "check_update_suite_url": _http_url_check,
    "suite_ticket": lambda p, c: SuiteTicketEvent(ticket=as_id(p.get("SuiteTicket")) or "", **c),
    "tmp_auth_code": lambda p, c: TmpAuthCodeEvent(auth_code=as_id(p.get("AuthCode")) or "",
                                                   **c),
    "change_auth": lambda p, c: AuthChangeEvent(**c),
    "suite_relieve": lambda p, c: SuiteRelieveEvent(**c),
    "check_suite_license_code": lambda p, c: LicenseCodeEvent(
        license_code=as_id(p.get("LicenseCode")) or "", **c),
    "market_buy": _http_market,
}


# SyncHTTP rows -------------------------------------------------------------------------------


def _parse_row_safely(row: Any) -> Event:
    # One unreadable row must not cost the others in the same push.
    try:
        return _parse_row(row)
    except HOSTILE as error:
        return _unknown(row, f"unreadable bizData row ({type(error).__name__})",
                        key_prefix="sync")


def _parse_row(row: Any) -> Event:
    if not isinstance(row, dict):
        return _unknown(row, "bizData row is not an object", key_prefix="sync")
    biz_type = as_int(row.get("biz_type"))
    corp_id = as_id(row.get("corp_id"))
    biz_id = as_id(row.get("biz_id"))
    stamp = as_timestamp(row.get("gmt_modified")) or as_timestamp(row.get("gmt_create"))
    subscribe_id = as_id(row.get("subscribe_id"))
    biz_data = row.get("biz_data")
    data = biz_data if isinstance(biz_data, dict) else _load_text(biz_data)
    common = {
        "suite_id": subscribe_id.split("_", 1)[0] if subscribe_id else None,
        "corp_id": corp_id,
        "timestamp_ms": stamp,
        "dedupe_key": _bounded(
            f"sync:{biz_type}:{corp_id or ''}:{biz_id or ''}:{stamp or as_id(row.get('id')) or ''}"
            f":{digest(data if data is not None else biz_data)}"),
        "raw": row,
    }
    if data is None:
        return UnknownEvent(biz_type=biz_type, reason="biz_data is not a JSON object",
                            **common)
    action = _row_action(biz_type, data)
    if biz_type == 2 or action == "suite_ticket":
        return SuiteTicketEvent(ticket=as_id(data.get("suiteTicket")) or "",
                                suite_key=as_id(data.get("suiteKey")), **common)
    if isinstance(action, str) and (action in SYNC_ACTIONS or action in CONTACT_ACTIONS):
        return _from_action(action, data, dict(common, suite_key=as_id(data.get("suiteKey"))),
                            biz_id=biz_id)
    return UnknownEvent(biz_type=biz_type, event_type=as_id(action),
                        reason="unknown biz_type or syncAction", **common)


def _row_action(biz_type: int | None, data: dict[str, Any]) -> Any:
    action = data.get("syncAction")
    if action is not None or biz_type not in (*_MARKET_BIZ_ACTIONS, 37):
        return action
    spelt = data.get("EventType") or data.get("eventType")
    if isinstance(spelt, str) and spelt in SYNC_ACTIONS:
        return spelt
    return _MARKET_BIZ_ACTIONS.get(biz_type)


def _load_text(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str):
        return None
    return _load(value)


def _from_action(action: str, data: dict[str, Any], common: dict[str, Any],
                 biz_id: str | None) -> Event:
    if action in CONTACT_ACTIONS:
        object_type, short = CONTACT_ACTIONS[action]
        return ContactEvent(kind=f"contact_{object_type}", object_type=object_type,
                            action=short, ids=id_tuple(biz_id), data=data, **common)
    kind, short = SYNC_ACTIONS[action]
    if kind.startswith("org_suite_"):
        return OrgSuiteAuthEvent(kind=kind, action=short, auth_info=data, **common)
    if kind.startswith("app_"):
        app_id = as_int(data.get("AppId") or data.get("appId")) or as_int(biz_id)
        return AppStateEvent(kind=kind, action=short, app_id=app_id,
                             agent_id=as_int(data.get("AgentId") or data.get("agentId")),
                             **common)
    if kind.startswith("market_"):
        return _market(kind, short, data, common, biz_id)
    return CorpUpdateEvent(kind=kind, action=short, data=data, **common)


def _market(kind: str, action: str, data: dict[str, Any], common: dict[str, Any],
            biz_id: str | None) -> Event:
    order_id = as_id(data.get("orderId"))
    if kind == "market_order":
        return MarketOrderEvent(order_id=order_id or biz_id, data=data, **common)
    if kind == "market_service":
        return MarketServiceEvent(action=action, order_id=order_id or biz_id, data=data,
                                  **common)
    if kind == "market_refund":
        # biz_type 212's biz_id means nothing (PROTOCOL-ISV 3.2): the order is in the data.
        return MarketRefundEvent(order_id=order_id, data=data, **common)
    return MarketTryoutEvent(data=data, **common)
