"""Plaintext callback payloads: HTTP-push EventTypes (PROTOCOL 7.3) and SyncHTTP rows (7.4)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from dingtalk.crypto import CREATE_SUITE_KEY

from ..auth_info import auth_info
from . import contacts, market
from .events import PushEvent

HIGH, MEDIUM = "SYNC_HTTP_PUSH_HIGH", "SYNC_HTTP_PUSH_MEDIUM"
_HIGH_TYPES = {2, 4, 7, 17}
_AUTH_ACTIONS = {"auth": "org_suite_auth", "change_auth": "org_suite_change",
                 "relieve": "org_suite_relieve"}
_HTTP_AUTH_EVENTS = {"change_auth": "change_auth", "relieve": "suite_relieve"}
_row_ids = itertools.count(7001)  # ids only ever increase, across suites and resets


@dataclass(frozen=True)
class Payload:
    """What to encrypt, with which $key, and which replies count as an acknowledgement."""

    label: str  # EventType, or "<biz_type>:<syncAction>" for SyncHTTP
    plaintext: str
    key: str
    accepted: tuple[str, ...] = ("success",)


def build(state, suite, event: PushEvent, now_ms: int, config=None) -> Payload:
    """The payload of one push event for a suite, in the suite's push style."""
    if event.kind in ("check_create_suite_url", "check_update_suite_url"):
        return _url_check(suite, event)
    if event.kind == "market":
        label, text = (market.sync_body(suite, event, now_ms, next(_row_ids))
                       if suite.push_style == "sync_http"
                       else market.http_body(suite, event, now_ms))
        return Payload(label, text, suite.suite_key)
    if suite.push_style == "sync_http":
        return sync_payload(suite.suite_key, _sync_rows(state, suite, event, now_ms, config))
    body = _http_event(state, suite, event, now_ms, config)
    return Payload(body["EventType"], _dumps(body), suite.suite_key)


def sync_payload(suite_key: str, rows: list[dict]) -> Payload:
    """One SyncHTTP push of these rows (the table of the first row names the EventType)."""
    body = {"EventType": HIGH if rows[0]["biz_type"] in _HIGH_TYPES else MEDIUM,
            "bizData": rows}
    action = json.loads(rows[0]["biz_data"]).get("syncAction", "")
    return Payload(f"{rows[0]['biz_type']}:{action}", _dumps(body), suite_key)


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dumps_list(values: list) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def _url_check(suite, event: PushEvent) -> Payload:
    create = event.kind == "check_create_suite_url"
    random = str(event.data.get("random", ""))
    body = {"EventType": event.kind, "Random": random,
            "TestSuiteKey": CREATE_SUITE_KEY if create else suite.suite_key}
    # Legacy suites answer URL checks with the Random value itself (PROTOCOL 7.2).
    accepted = ("success", random) if suite.legacy_url_check else ("success",)
    return Payload(event.kind, _dumps(body), CREATE_SUITE_KEY if create else suite.suite_key,
                   accepted)


def _http_event(state, suite, event: PushEvent, now_ms: int, config=None) -> dict:
    data, base = event.data, {"SuiteKey": suite.suite_key, "TimeStamp": now_ms}
    if event.kind == "suite_ticket":
        return {**base, "EventType": "suite_ticket", "SuiteTicket": data["ticket"]}
    if event.kind == "auth":
        return {**base, "EventType": "tmp_auth_code", "AuthCode": data["tmp_auth_code"],
                "AuthCorpId": event.corp_id}
    if event.kind in _HTTP_AUTH_EVENTS:
        return {**base, "EventType": _HTTP_AUTH_EVENTS[event.kind], "AuthCorpId": event.corp_id}
    if event.kind == "app_state":
        return {**base, "EventType": f"org_micro_app_{data['action']}",
                "AgentId": data.get("agent_id"), "AppId": data.get("app_id"),
                "AuthCorpId": event.corp_id}
    if event.kind == "corp_update":
        name = "org_remove" if data.get("action") == "org_remove" else "org_change"
        return {"EventType": name, "TimeStamp": now_ms, "CorpId": event.corp_id}
    if event.kind == "contact":
        return contacts.http_event(event, now_ms,
                                   form=getattr(config, "contact_http_form", "legacy"))
    raise ValueError(f"unknown push kind {event.kind}")


def _row(suite, event: PushEvent, now_ms: int, biz_type: int, biz_id, data: dict,
         modified_ms: int | None = None) -> dict:
    modified = now_ms if modified_ms is None else modified_ms
    return {
        "gmt_create": modified, "gmt_modified": modified, "biz_type": biz_type, "open_cursor": 0,
        "subscribe_id": f"{suite.suite_id}_0", "id": next(_row_ids), "biz_id": str(biz_id),
        "biz_data": _dumps(data), "corp_id": event.corp_id or "", "status": 0,
    }


def _sync_rows(state, suite, event: PushEvent, now_ms: int, config=None) -> list[dict]:
    data = event.data
    if event.kind == "suite_ticket":
        biz = {"syncAction": "suite_ticket", "suiteTicket": data["ticket"], "syncSeq": now_ms}
        return [_row(suite, event, now_ms, 2, suite.suite_id, biz)]
    if event.kind in _AUTH_ACTIONS:
        return [_row(suite, event, now_ms, 4, suite.suite_id, _auth_biz(state, suite, event))]
    if event.kind == "app_state":
        biz = {"agentId": data.get("agent_id"), "syncAction": f"org_micro_app_{data['action']}"}
        if data["action"] == "scope_update":
            # KB-EV/0197: the visible scopes as JSON-string arrays of ids (PROTOCOL-ISV 4.1).
            biz.update(userVisibleScopes=_dumps_list(data.get("authed_user", [])),
                       deptVisibleScopes=_dumps_list(data.get("authed_dept", [])),
                       syncSeq=now_ms)
        return [_row(suite, event, now_ms, 7, data.get("app_id"), biz)]
    if event.kind == "corp_update":
        return [_row(suite, event, now_ms, 16, event.corp_id, _corp_biz(state, event))]
    if event.kind == "contact":
        return _contact_rows(state, suite, event, now_ms, config)
    raise ValueError(f"unknown push kind {event.kind}")


def _auth_biz(state, suite, event: PushEvent) -> dict:
    action = _AUTH_ACTIONS[event.kind]
    record = state.auths.get((suite.suite_key, event.corp_id))
    if action == "org_suite_relieve" or record is None:
        return {"syncAction": action}
    scope = {"errcode": 0, "errmsg": "ok", "condition_field": [],
             "auth_user_field": list(record.auth_user_field),
             "auth_org_scopes": {"authed_user": list(record.authed_user),
                                 "authed_dept": list(record.authed_dept)}}
    return {"syncAction": action, **auth_info(state, suite, record), "auth_scope": scope,
            "permanent_code": record.permanent_code}


def _corp_biz(state, event: PushEvent) -> dict:
    action = event.data.get("action") or "org_update"
    corp = state.corps.get(event.corp_id)
    if action == "org_remove" or corp is None:
        return {"syncAction": action}
    return {"syncAction": action, "corpid": corp.corp_id, "corp_name": corp.name,
            "corp_logo_url": corp.logo_url, "industry": corp.industry, "auth_level": 0,
            "is_authenticated": False}


def _contact_rows(state, suite, event: PushEvent, now_ms: int, config=None) -> list[dict]:
    form = getattr(config, "contact_remove_form", "bare")
    rows = [_row(suite, event, now_ms, biz_type, biz_id, data,
                 modified_ms=contacts.modified_ms(now_ms))
            for biz_type, biz_id, data in contacts.row_specs(state, event, remove_form=form)]
    action = contacts.changes_of(event.data)[0]["action"]
    return rows or [_row(suite, event, now_ms, 13, "", {"syncAction": action})]
