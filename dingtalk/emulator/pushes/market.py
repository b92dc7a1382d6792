"""Market push payloads (PROTOCOL-ISV 3.2): biz_type 17, 37, 212 and 63 rows, or HTTP pushes.

The market's control routes hand the pusher `PushEvent(kind="market", data={biz_type, action,
biz_id, fields, table})`; `fields` are the biz_data's camelCase members. In HTTP-push style
biz_type 17 is the documented `market_buy` (plus SuiteKey and buyCorpId); the others carry
their syncAction as EventType (the market config decides whether they are pushed at all).
"""

from __future__ import annotations

import json
import uuid

from .events import PushEvent

HIGH, MEDIUM = "SYNC_HTTP_PUSH_HIGH", "SYNC_HTTP_PUSH_MEDIUM"


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sync_body(suite, event: PushEvent, now_ms: int, row_id: int) -> tuple[str, str]:
    """(label, plaintext) of the SyncHTTP push of one market row."""
    data = event.data
    biz = {"syncAction": data["action"], **data["fields"], "eventId": uuid.uuid4().hex,
           "syncSeq": now_ms}
    row = {"gmt_create": now_ms, "gmt_modified": now_ms, "biz_type": data["biz_type"],
           "open_cursor": 0, "subscribe_id": f"{suite.suite_id}_0", "id": row_id,
           "biz_id": str(data.get("biz_id") or ""), "biz_data": _dumps(biz),
           "corp_id": event.corp_id or "", "status": 0}
    body = {"EventType": HIGH if data.get("table", "high") == "high" else MEDIUM,
            "bizData": [row]}
    return f"{data['biz_type']}:{data['action']}", _dumps(body)


def http_body(suite, event: PushEvent, now_ms: int) -> tuple[str, str]:
    """(label, plaintext) of the HTTP push of one market event."""
    data = event.data
    if data["biz_type"] == 17:
        # KB-EV/0250: market_buy carries the order's fields plus SuiteKey and buyCorpId.
        body = {"EventType": "market_buy", "SuiteKey": suite.suite_key,
                "buyCorpId": event.corp_id, **data["fields"]}
    else:
        body = {"EventType": data["action"], "SuiteKey": suite.suite_key, "TimeStamp": now_ms,
                **data["fields"]}
    return body["EventType"], _dumps(body)
