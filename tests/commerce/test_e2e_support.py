"""A hand-made SyncHTTP push posted to the live callback endpoint (forged market rows)."""

from __future__ import annotations

import json
import time

import requests

from dingtalk.crypto import CallbackCrypto


def push_row(live_server, suite, biz_type: int, biz_id: str, biz_data: dict,
             corp_id: str) -> None:
    ms = int(time.time() * 1000)
    payload = json.dumps({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [{
        "id": ms, "gmt_create": ms, "gmt_modified": ms, "biz_type": biz_type,
        "biz_id": biz_id, "subscribe_id": f"{suite.suite_id}_0", "corp_id": corp_id,
        "open_cursor": 0, "status": 0, "biz_data": json.dumps(biz_data)}]})
    crypto = CallbackCrypto(token=suite.callback_token, encoding_aes_key=suite.encoding_aes_key,
                            key=suite.suite_key)
    encrypt = crypto.encrypt(payload)
    timestamp = str(ms)
    params = {"signature": crypto.signature(timestamp, "nonce1", encrypt),
              "timestamp": timestamp, "nonce": "nonce1"}
    response = requests.post(f"{live_server.url}/callbacks/{suite.suite_key}/", params=params,
                             json={"encrypt": encrypt}, timeout=10)
    assert response.status_code == 200, response.text
