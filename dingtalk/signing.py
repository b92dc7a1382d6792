"""The ISV API signature: Base64(HmacSHA256(secret, "<timestamp_ms>\\n<suiteTicket>"))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def _string_to_sign(timestamp_ms: int | str, ticket: str | None) -> str:
    # The official Java SDK signs the bare timestamp when there is no ticket.
    return str(timestamp_ms) if ticket is None else f"{timestamp_ms}\n{ticket}"


def sign(secret: str, timestamp_ms: int | str, ticket: str | None) -> str:
    """Base64 signature, not URL-encoded (requests encodes `+` `/` `=` in query values)."""
    digest = hmac.new(
        secret.encode("utf-8"),
        _string_to_sign(timestamp_ms, ticket).encode("utf-8"),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def now_ms() -> int:
    """Real wall-clock milliseconds: DingTalk refuses timestamps off by more than a minute."""
    return int(time.time() * 1000)


def signature_params(
    *, access_key: str, secret: str, ticket: str, timestamp_ms: int | None = None
) -> dict[str, str]:
    """The query parameters of a signed ISV call (get_corp_token, get_auth_info, get_agent)."""
    timestamp = now_ms() if timestamp_ms is None else timestamp_ms
    return {
        "accessKey": access_key,
        "timestamp": str(timestamp),
        "suiteTicket": ticket,
        "signature": sign(secret, timestamp, ticket),
    }


def verify(secret: str, timestamp_ms: int | str, ticket: str | None, signature: str) -> bool:
    """True when `signature` is right for these inputs; compared in constant time."""
    if not isinstance(signature, str):
        return False
    expected = sign(secret, timestamp_ms, ticket)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8"))
