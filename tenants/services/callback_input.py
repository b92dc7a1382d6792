"""Checks on a callback before any secret is used: cheap, no database, the same for every key.

Everything here runs before the signature is verified, so it must cost little, never raise
anything but CallbackRejected, and answer a key that cannot exist exactly like a key that
exists but was signed wrongly (no probing for which suites are registered).
"""

from __future__ import annotations

import hashlib
import json
import re

from tenants.errors import CallbackForbidden, CallbackMalformed

# Suite keys as suite_validate accepts them: they are URL path segments.
SUITE_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SIGNATURE_RE = re.compile(r"[0-9A-Za-z+/=]{1,128}")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,20}")
_NONCE_RE = re.compile(r"[\x21-\x7e]{1,128}")
_ENCRYPT_RE = re.compile(r"[A-Za-z0-9+/=]+")
# DingTalk's body is {"encrypt": "<base64>"}: one object, no arrays. A few brackets of slack;
# 100,000 of them once sent the JSON decoder into RecursionError.
_MAX_BRACKETS = 8


def shown(value: str | None, limit: int = 80) -> str:
    """An untrusted value fit for a log line: repr (escapes newlines, NULs), cut short."""
    text = value if isinstance(value, str) else str(value)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def check_query(*, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
    if not (signature and timestamp and nonce):
        raise CallbackMalformed("signature, timestamp and nonce query parameters are required")
    if not (_SIGNATURE_RE.fullmatch(signature) and _TIMESTAMP_RE.fullmatch(timestamp)
            and _NONCE_RE.fullmatch(nonce)):
        raise CallbackMalformed("signature, timestamp or nonce is not of DingTalk's form")


def encrypt_field(body: bytes) -> str:
    """The body's "encrypt" string; CallbackMalformed for anything else."""
    if body.count(b"[") + body.count(b"{") > _MAX_BRACKETS:
        raise CallbackMalformed("body is not DingTalk's callback JSON")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CallbackMalformed("body is not JSON") from None
    encrypt = document.get("encrypt") if isinstance(document, dict) else None
    if not isinstance(encrypt, str) or not _ENCRYPT_RE.fullmatch(encrypt):
        raise CallbackMalformed('body must be a JSON object with a base64 string "encrypt"')
    return encrypt


def refuse_unknown_key(*, signature: str, timestamp: str, nonce: str, encrypt: str):
    """Answer a key we do not have like a bad signature, after about the same work."""
    hashlib.sha1("".join(sorted([signature, timestamp, nonce, encrypt])).encode(),
                 usedforsecurity=False).hexdigest()
    # The reason reaches the log only; the response is the bad signature's, word for word.
    return CallbackForbidden("callback signature mismatch",
                             extra={"log_reason": "nothing is registered under this key"})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def plaintext_document(plaintext: str) -> dict | None:
    """The decrypted JSON object, or None when it is not one DingTalk would send (strict JSON:
    no NaN or Infinity, no nesting deep enough to exhaust the decoder)."""
    try:
        document = json.loads(plaintext, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
