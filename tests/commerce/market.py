"""The emulator's market control routes (dingtalk/emulator/market/control.py), over HTTP."""

from __future__ import annotations


def order_create(emulator, suite_key: str, corp_id: str, **fields) -> dict:
    """A paid order at the emulator, pushed (17 / market_buy) unless push=False."""
    fields.setdefault("item_code", "item_pro")
    return emulator._call("POST", f"suites/{suite_key}/market/orders",
                          {"corp_id": corp_id, **fields})


def order_refund(emulator, suite_key: str, order_id: str, **fields) -> dict:
    return emulator._call("POST", f"suites/{suite_key}/market/orders/{order_id}/refund",
                          fields or {})


def order_open(emulator, suite_key: str, order_id: str) -> dict:
    return emulator._call("POST", f"suites/{suite_key}/market/orders/{order_id}/open", {})


def order_free_switch(emulator, suite_key: str, order_id: str, **fields) -> dict:
    return emulator._call("POST", f"suites/{suite_key}/market/orders/{order_id}/free_switch",
                          fields)


def order_view(emulator, suite_key: str, order_id: str) -> dict:
    return emulator._call("GET", f"suites/{suite_key}/market/orders/{order_id}")


def tryout(emulator, suite_key: str, corp_id: str, **fields) -> dict:
    return emulator._call("POST", f"suites/{suite_key}/market/tryout",
                          {"corp_id": corp_id, **fields})


def calls(emulator, endpoint: str, corp_id: str | None = None) -> int:
    """How often the emulator answered `endpoint` (for one corp when given)."""
    snapshot = emulator.counters()
    if corp_id is None:
        return snapshot["calls"].get(endpoint, 0)
    return sum(row["count"] for row in snapshot["calls_by"]
               if row["endpoint"] == endpoint and row["corp_id"] == corp_id)
