"""DingTalk's callback push: check, verify, decrypt, store in the inbox, reply at once.

The order matters. Everything that needs no secret is checked first and answers the same for
every suite key (callback_input.py); the signature is verified before the payload is read; and
a push whose signature checks out is DingTalk's, so it is always stored and answered `success`
(an unreadable one as an `unparsed` row for operators), because any other answer makes DingTalk
push it again, up to 100 times, and counts against the app's push-success rate.
The reply waits on nothing but the one short insert: tasks are published after it.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackSignatureError
from dingtalk.events import parse_callback
from tenants.errors import (
    CallbackForbidden,
    CallbackRejected,
    CallbackTooLarge,
    CallbackUndecryptable,
    CallbackWrongSuite,
    ServiceError,
    SuiteNotFound,
)
from tenants.models import Suite
from tenants.selectors.suites import suite_cache_forget, suite_get_cached
from tenants.services.callback_input import (
    SUITE_KEY_RE,
    check_query,
    encrypt_field,
    plaintext_document,
    refuse_unknown_key,
    shown,
)
from tenants.services.callback_store import (
    RANDOM_REPLY_KINDS,
    URL_CHECK_KINDS,
    Stored,
    events_store,
    unparsed_store,
)

logger = logging.getLogger("tenants.callbacks")

__all__ = ["CallbackTooLarge", "callback_receive"]


def callback_receive(*, suite_key: str, signature: str | None, timestamp: str | None,
                     nonce: str | None, body: bytes) -> dict:
    """Handle one push and return the encrypted reply map; CallbackRejected otherwise.

    Every outcome is logged on "tenants.callbacks" with the suite key (escaped) and the outcome
    only (never tokens, keys, tickets or payload contents).
    """
    started = time.perf_counter()
    try:
        reply, stored = _receive(suite_key=suite_key, signature=signature, timestamp=timestamp,
                                 nonce=nonce, body=body)
    except ServiceError as exc:
        logger.warning("callback rejected suite=%s status=%s code=%s reason=%s",
                       shown(suite_key), exc.http_status, exc.code,
                       exc.extra.get("log_reason", exc.message))
        raise
    logger.info("callback accepted suite=%s kinds=%s new=%d repeats=%d ms=%.1f",
                shown(suite_key), ",".join(stored.kinds), len(stored.new_ids), stored.repeats,
                (time.perf_counter() - started) * 1000)
    return reply


def _receive(*, suite_key, signature, timestamp, nonce, body) -> tuple[dict, Stored]:
    if len(body) > settings.CALLBACK_MAX_BODY_BYTES:
        raise CallbackTooLarge("callback body too large")
    check_query(signature=signature, timestamp=timestamp, nonce=nonce)
    encrypt = encrypt_field(body)
    if not SUITE_KEY_RE.fullmatch(suite_key):
        raise refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                 encrypt=encrypt)
    try:
        suite, cached = suite_get_cached(suite_key=suite_key)
    except SuiteNotFound:
        raise refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                 encrypt=encrypt) from None
    try:
        crypto, plaintext = _verify_and_decrypt(suite, signature, timestamp, nonce, encrypt)
    except CallbackRejected:
        if not cached:
            raise
        # The secrets may have been rotated since this process cached the suite.
        suite_cache_forget(suite_key=suite_key)
        suite, _ = suite_get_cached(suite_key=suite_key)
        crypto, plaintext = _verify_and_decrypt(suite, signature, timestamp, nonce, encrypt)
    document = plaintext_document(plaintext)
    if document is None:
        return crypto.encrypted_reply("success"), unparsed_store(suite=suite, text=plaintext)
    events = parse_callback(document)
    _check_same_suite(suite, events)
    stored = events_store(suite=suite, events=events, plaintext=plaintext)
    reply_text = "success"
    for event in events:
        if event.kind in RANDOM_REPLY_KINDS and isinstance(getattr(event, "random", None), str):
            reply_text = event.random or reply_text
    return crypto.encrypted_reply(reply_text), stored


def _check_same_suite(suite: Suite, events) -> None:
    """Refuse a push that names another suite than its URL's (keys shared across suites)."""
    for event in events:
        if event.kind in URL_CHECK_KINDS:
            continue  # pushed before the suite has its key (the create-suite check)
        if event.suite_key and event.suite_key != suite.suite_key:
            raise CallbackWrongSuite("the push names another suite than its callback URL",
                                     extra={"named": "suite_key"})
        if event.suite_id and suite.suite_id and str(event.suite_id) != suite.suite_id:
            raise CallbackWrongSuite("the push names another suite than its callback URL",
                                     extra={"named": "subscribe_id"})


def _verify_and_decrypt(suite: Suite, signature, timestamp, nonce, encrypt):
    """(crypto to reply with, plaintext); the legacy create-suite check uses the fixed key."""
    try:
        crypto = CallbackCrypto(token=suite.callback_token,
                                encoding_aes_key=suite.encoding_aes_key, key=suite.suite_key)
        # A signed message that is not UTF-8 is still DingTalk's: keep its bytes (escaped).
        return crypto, crypto.verify_and_decrypt(
            signature=signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt,
            errors="surrogateescape")
    except CallbackSignatureError:
        raise CallbackForbidden("callback signature mismatch") from None
    except CallbackDecryptError as exc:
        first_error = exc
    # check_create_suite_url is pushed before the suite exists, so its trailing key is the fixed
    # CREATE_SUITE_KEY; the signature was already verified above with the suite's token.
    legacy = CallbackCrypto(token=suite.callback_token, encoding_aes_key=suite.encoding_aes_key,
                            key=CREATE_SUITE_KEY)
    try:
        plaintext = legacy.decrypt(encrypt)
        if json.loads(plaintext).get("EventType") == "check_create_suite_url":
            return legacy, plaintext
    except (CallbackDecryptError, ValueError, AttributeError, RecursionError):
        pass
    raise CallbackUndecryptable(f"cannot decrypt the payload: {first_error}") from None
