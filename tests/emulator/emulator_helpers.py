"""Plain-requests helpers for the emulator conformance tests (no dingsuite client on purpose)."""

import base64
import hashlib
import hmac
import time

import requests


def get(emulator, path: str, token: str | None = None, **params) -> dict:
    if token is not None:
        params["access_token"] = token
    return requests.get(f"{emulator.base_url}/{path}", params=params, timeout=10).json()


def post(emulator, path: str, token: str | None = None, body: dict | None = None,
         **params) -> dict:
    if token is not None:
        params["access_token"] = token
    return requests.post(f"{emulator.base_url}/{path}", params=params, json=body or {},
                         timeout=10).json()


def internal_app(emulator, users: int = 30):
    """-> (corp, app, access_token) for an internal app."""
    corp = emulator.create_corp(users=users)
    app = emulator.create_app(corp["corp_id"])
    body = get(emulator, "gettoken", appkey=app["appkey"], appsecret=app["appsecret"])
    assert body["errcode"] == 0, body
    return corp, app, body["access_token"]


def sign(secret: str, timestamp: str, ticket: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}\n{ticket}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signature_params(suite: dict, ticket: str, *, timestamp: int | None = None,
                     secret: str | None = None) -> dict:
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    return {"accessKey": suite["suite_key"], "timestamp": ts, "suiteTicket": ticket,
            "signature": sign(secret or suite["suite_secret"], ts, ticket)}


def corp_token_signed(emulator, suite: dict, corp_id: str) -> dict:
    ticket = emulator.current_ticket(suite["suite_key"])
    return post(emulator, "service/get_corp_token", body={"auth_corpid": corp_id},
                **signature_params(suite, ticket))


def isv_app(emulator, users: int = 30, **auth):
    """-> (corp, suite, auth record, corp access_token) for an authorised ISV suite."""
    corp = emulator.create_corp(users=users)
    suite = emulator.create_suite(push_style="sync_http")
    record = emulator.authorize(suite["suite_key"], corp["corp_id"], **auth)
    body = corp_token_signed(emulator, suite, corp["corp_id"])
    assert body["errcode"] == 0, body
    return corp, suite, record, body["access_token"]


def suite_token(emulator, suite: dict) -> str:
    body = post(emulator, "service/get_suite_token", body={
        "suite_key": suite["suite_key"], "suite_secret": suite["suite_secret"],
        "suite_ticket": emulator.current_ticket(suite["suite_key"])})
    assert body["errcode"] == 0, body
    return body["suite_access_token"]


def org_tree(detail: dict) -> tuple[dict, dict]:
    """get_corp detail -> ({dept: [child dept ids]}, {dept: [direct member userids]})."""
    children: dict = {}
    members: dict = {}
    for d in detail["departments"]:
        if d["parent_id"] is not None:
            children.setdefault(d["parent_id"], []).append(d["id"])
    for u in detail["users"]:
        for d in u["depts"]:
            members.setdefault(d, []).append(u["userid"])
    return children, members
