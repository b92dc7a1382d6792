"""One push attempt: encrypt, POST to the callback URL, judge the reply (PROTOCOL 7.1, 7.2, 8)."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from dingtalk.crypto import CallbackCrypto
from dingtalk.errors import CallbackError

_local = threading.local()


@dataclass(frozen=True)
class Outcome:
    acknowledged: bool
    status: str  # short and secret-free: "acknowledged", "timeout", "http 500", ...


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def attempt(*, url: str, crypto: CallbackCrypto, plaintext: str, accepted: tuple[str, ...],
            timestamp_ms: int, deadline_s: float, verify_signature: bool) -> Outcome:
    """POST <url>?signature&timestamp&nonce {"encrypt"} and judge the answer."""
    timestamp, nonce = str(timestamp_ms), secrets.token_hex(4)
    encrypt = crypto.encrypt(plaintext)
    query = urlencode({"signature": crypto.signature(timestamp, nonce, encrypt),
                       "timestamp": timestamp, "nonce": nonce})
    target = f"{url}{'&' if '?' in url else '?'}{query}"
    started = time.monotonic()
    try:
        response = _session().post(target, json={"encrypt": encrypt},
                                   timeout=(deadline_s, deadline_s))
    except requests.Timeout:
        return Outcome(False, "timeout")
    except requests.RequestException as exc:
        return Outcome(False, f"connection error: {type(exc).__name__}")
    if time.monotonic() - started > deadline_s:
        return Outcome(False, "timeout")
    if response.status_code != 200:
        return Outcome(False, f"http {response.status_code}")
    return judge_reply(response.content, crypto=crypto, accepted=accepted,
                       verify_signature=verify_signature)


def judge_reply(content: bytes, *, crypto: CallbackCrypto, accepted: tuple[str, ...],
                verify_signature: bool) -> Outcome:
    """The reply must decrypt to an accepted text; timeStamp or timestamp; echo not required."""
    try:
        reply = json.loads(content)
    except ValueError:
        return Outcome(False, "reply is not JSON")
    if not isinstance(reply, dict) or not isinstance(reply.get("encrypt"), str):
        return Outcome(False, "reply has no encrypt")
    if verify_signature:
        stamp = reply.get("timeStamp", reply.get("timestamp"))
        signature = reply.get("msg_signature")
        if stamp is None or not isinstance(signature, str):
            return Outcome(False, "reply has no msg_signature/timeStamp")
        expected = crypto.signature(str(stamp), str(reply.get("nonce", "")), reply["encrypt"])
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return Outcome(False, "reply signature mismatch")
    try:
        text = crypto.decrypt(reply["encrypt"])
    except CallbackError:
        return Outcome(False, "reply does not decrypt")
    if text not in accepted:
        return Outcome(False, "reply is not success")
    return Outcome(True, "acknowledged")
