"""Plain-requests helpers for the market conformance tests (control routes and both APIs)."""

import requests
from emulator_helpers import corp_token_signed


def control(emulator, method: str, path: str, body: dict | None = None, **params):
    """(status, JSON) of a control call under /_emulator/."""
    response = requests.request(method, f"{emulator.base_url}/_emulator/{path}", json=body,
                                params=params, timeout=10)
    return response.status_code, response.json()


def order(emulator, suite_key: str, corp_id: str, **fields) -> dict:
    fields.setdefault("item_code", "pro")
    status, body = control(emulator, "POST", f"suites/{suite_key}/market/orders",
                           {"corp_id": corp_id, **fields})
    assert status == 200, body
    return body


def act(emulator, suite_key: str, order_id: str, action: str, **body) -> dict:
    status, answer = control(emulator, "POST",
                             f"suites/{suite_key}/market/orders/{order_id}/{action}", body)
    assert status == 200, answer
    return answer


def suite_token(emulator, suite: dict) -> str:
    body = requests.post(f"{emulator.base_url}/service/get_suite_token", json={
        "suite_key": suite["suite_key"], "suite_secret": suite["suite_secret"],
        "suite_ticket": emulator.current_ticket(suite["suite_key"])}, timeout=10).json()
    assert body["errcode"] == 0, body
    return body["suite_access_token"]


def new_api_get(emulator, path: str, token: str | None):
    headers = {} if token is None else {"x-acs-dingtalk-access-token": token}
    response = requests.get(f"{emulator.base_url}/{path}", headers=headers, timeout=10)
    return response.status_code, response.json()


def corp_token(emulator, suite: dict, corp_id: str) -> str:
    body = corp_token_signed(emulator, suite, corp_id)
    assert body["errcode"] == 0, body
    return body["access_token"]
