"""The one path of a push, whoever it is for (a suite, or an internal app).

The order matters: everything that needs no secret is checked first and answers the same for
every key (callback_input.py); the owner's secrets verify the signature before the payload is
read, with one re-read of the owner when a process's cached secrets may be stale; a push whose
signature checks out is DingTalk's, so it is always stored and answered (an unreadable one as an
`unparsed` row), because any other answer makes DingTalk push it again, up to 100 times. The
reply waits on nothing but the insert. Each owner kind says only what differs (`Receiver`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.metrics import CALLBACK_SECONDS, CALLBACKS
from dingtalk.crypto import CallbackCrypto
from dingtalk.events import parse_callback
from tenants.errors import CallbackRejected, CallbackTooLarge, ServiceError
from tenants.services.callback_input import (
    SUITE_KEY_RE,
    check_query,
    encrypt_field,
    plaintext_document,
    refuse_unknown_key,
    shown,
)
from tenants.services.callback_store import Stored, events_store, unparsed_store

logger = logging.getLogger("tenants.callbacks")


@dataclass(frozen=True)
class Signed:
    """A verified push: the crypto to reply with, and the plaintext."""

    crypto: CallbackCrypto
    plaintext: str


@dataclass(frozen=True)
class Receiver:
    """What one kind of owner supplies to the pipeline.

    - label: the word in log lines ("suite", "app").
    - load(key, fresh) -> (owner or None when the key names nothing, came_from_cache).
    - verify(owner, signature, timestamp, nonce, encrypt) -> Signed; raises CallbackRejected.
    - check(owner, events): raise CallbackRejected for events that name another owner.
    - owner_fields(owner) -> the keyword arguments that say whose rows these are.
    - reply(events) -> the text to answer (usually "success").
    """

    label: str
    load: Callable[[str, bool], tuple[Any, bool]]
    verify: Callable[..., Signed]
    check: Callable[[Any, list], None]
    owner_fields: Callable[[Any], dict]
    reply: Callable[[list], str]


def callback_handle(receiver: Receiver, *, key: str, signature: str | None,
                    timestamp: str | None, nonce: str | None, body: bytes) -> dict:
    """Handle one push and return the encrypted reply map; CallbackRejected otherwise.

    Every outcome is logged on "tenants.callbacks" with the key (escaped) and the outcome only
    (never tokens, keys, tickets or payload contents).
    """
    started = time.perf_counter()
    try:
        reply, stored = _receive(receiver, key, signature, timestamp, nonce, body)
    except ServiceError as exc:
        CALLBACKS.labels(owner=receiver.label, kind="", outcome=exc.code).inc()
        logger.warning("callback rejected %s=%s status=%s code=%s reason=%s", receiver.label,
                       shown(key), exc.http_status, exc.code,
                       exc.extra.get("log_reason", exc.message))
        raise
    elapsed = time.perf_counter() - started
    CALLBACK_SECONDS.labels(owner=receiver.label).observe(elapsed)
    for kind in set(stored.kinds) or {""}:
        CALLBACKS.labels(owner=receiver.label, kind=kind, outcome="accepted").inc()
    logger.info("callback accepted %s=%s kinds=%s new=%d repeats=%d ms=%.1f", receiver.label,
                shown(key), ",".join(stored.kinds), len(stored.new_ids), stored.repeats,
                elapsed * 1000)
    return reply


def _receive(receiver: Receiver, key, signature, timestamp, nonce, body) -> tuple[dict, Stored]:
    if len(body) > settings.CALLBACK_MAX_BODY_BYTES:
        raise CallbackTooLarge("callback body too large")
    check_query(signature=signature, timestamp=timestamp, nonce=nonce)
    encrypt = encrypt_field(body)
    if not SUITE_KEY_RE.fullmatch(key):
        raise refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                 encrypt=encrypt)
    owner, cached = receiver.load(key, False)
    if owner is None:
        raise refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                 encrypt=encrypt)
    try:
        signed = receiver.verify(owner, signature, timestamp, nonce, encrypt)
    except CallbackRejected:
        if not cached:
            raise
        # The secrets may have been rotated since this process cached the owner.
        owner, _ = receiver.load(key, True)
        signed = receiver.verify(owner, signature, timestamp, nonce, encrypt)
    fields = receiver.owner_fields(owner)
    document = plaintext_document(signed.plaintext)
    if document is None:
        stored = unparsed_store(**fields, text=signed.plaintext)
        return signed.crypto.encrypted_reply("success"), stored
    events = parse_callback(document)
    receiver.check(owner, events)
    stored = events_store(**fields, events=events, plaintext=signed.plaintext)
    return signed.crypto.encrypted_reply(receiver.reply(events)), stored
