"""DingTalk's callback push: verify, decrypt, store in the inbox (deduplicated), reply at once."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DataError, transaction

from core import clock
from core.upserts import insert_new
from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackSignatureError
from dingtalk.events import parse_callback
from tenants.errors import CallbackRejected, ServiceError
from tenants.models import CallbackEvent, Suite
from tenants.selectors.suites import suite_cache_forget, suite_get_cached
from tenants.services.tickets import suite_ticket_record

logger = logging.getLogger("tenants.callbacks")

PROCESS_TASK = "tenants.callback_event_process"
# Legacy URL checks (PROTOCOL 7.2) want the event's Random echoed back instead of "success".
RANDOM_REPLY_KINDS = frozenset({"check_create_suite_url", "check_update_suite_url"})
# Nothing to do after the reply: stored for the record, never enqueued.
URL_CHECK_KINDS = RANDOM_REPLY_KINDS | {"check_url"}
TICKET_KIND = "suite_ticket"


class CallbackForbidden(CallbackRejected):
    code = "callback_bad_signature"
    http_status = 403


class CallbackUndecryptable(CallbackRejected):
    code = "callback_undecryptable"
    http_status = 400


class CallbackMalformed(CallbackRejected):
    code = "callback_malformed"
    http_status = 400


class CallbackTooLarge(CallbackRejected):
    code = "callback_too_large"
    http_status = 413


@dataclass
class _Stored:
    new_ids: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    repeats: int = 0


def callback_receive(*, suite_key: str, signature: str | None, timestamp: str | None,
                     nonce: str | None, body: bytes) -> dict:
    """Handle one push and return the encrypted reply map; CallbackRejected/SuiteNotFound else.

    Every outcome is logged on "tenants.callbacks" with the suite key and the outcome only
    (never tokens, keys, tickets or payload contents).
    """
    started = time.perf_counter()
    try:
        reply, stored = _receive(suite_key=suite_key, signature=signature, timestamp=timestamp,
                                 nonce=nonce, body=body)
    except ServiceError as exc:
        logger.warning("callback rejected suite=%s status=%s code=%s reason=%s",
                       suite_key, exc.http_status, exc.code, exc.message)
        raise
    logger.info("callback accepted suite=%s kinds=%s new=%d repeats=%d ms=%.1f",
                suite_key, ",".join(stored.kinds), len(stored.new_ids), stored.repeats,
                (time.perf_counter() - started) * 1000)
    return reply


def _receive(*, suite_key, signature, timestamp, nonce, body) -> tuple[dict, _Stored]:
    if len(body) > settings.CALLBACK_MAX_BODY_BYTES:
        raise CallbackTooLarge("callback body too large")
    if not (signature and timestamp and nonce):
        raise CallbackMalformed("signature, timestamp and nonce query parameters are required")
    suite, cached = suite_get_cached(suite_key=suite_key)
    encrypt = _encrypt_field(body)
    try:
        crypto, plaintext = _verify_and_decrypt(suite, signature, timestamp, nonce, encrypt)
    except CallbackRejected:
        if not cached:
            raise
        # The secrets may have been rotated since this process cached the suite.
        suite_cache_forget(suite_key=suite_key)
        suite, _ = suite_get_cached(suite_key=suite_key)
        crypto, plaintext = _verify_and_decrypt(suite, signature, timestamp, nonce, encrypt)
    try:
        document = json.loads(plaintext)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise CallbackMalformed("decrypted payload is not a JSON object")
    events = parse_callback(document)
    try:
        stored = _store(suite, events)
    except DataError:
        # A signed push can still carry what PostgreSQL refuses (a NUL byte, a timestamp past
        # bigint): the sender must hear that the push is bad, not that we are down.
        raise CallbackMalformed("the payload holds values that cannot be stored") from None
    reply_text = "success"
    for event in events:
        if event.kind in RANDOM_REPLY_KINDS and getattr(event, "random", None):
            reply_text = event.random
    return crypto.encrypted_reply(reply_text), stored


def _encrypt_field(body: bytes) -> str:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackMalformed("body is not JSON") from None
    encrypt = document.get("encrypt") if isinstance(document, dict) else None
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackMalformed('body must be a JSON object with a string "encrypt"')
    return encrypt


def _verify_and_decrypt(suite: Suite, signature, timestamp, nonce, encrypt):
    """(crypto to reply with, plaintext); the legacy create-suite check uses the fixed key."""
    try:
        crypto = CallbackCrypto(token=suite.callback_token,
                                encoding_aes_key=suite.encoding_aes_key, key=suite.suite_key)
        return crypto, crypto.verify_and_decrypt(
            signature=signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt)
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
    except (CallbackDecryptError, ValueError, AttributeError):
        pass
    raise CallbackUndecryptable(f"cannot decrypt the payload: {first_error}") from None


def _store(suite: Suite, events) -> _Stored:
    """Apply tickets and insert the events (one statement, repeats skipped) in one short
    transaction -- one commit, so one WAL flush per push -- then enqueue after COMMIT."""
    stored = _Stored(kinds=[event.kind for event in events])
    now = clock.now()
    rows, queued_keys = {}, set()
    for event in events:
        inline = event.kind == TICKET_KIND or event.kind in URL_CHECK_KINDS
        key = event.dedupe_key[:255]
        rows.setdefault(key, {
            "suite_id": suite.pk, "kind": event.kind[:64], "corp_id": (event.corp_id or "")[:64],
            "dedupe_key": key, "payload": event.raw,
            "status": CallbackEvent.Status.DONE if inline else CallbackEvent.Status.PENDING,
            "processed_at": now if inline else None, "received_at": now,
        })
        if not inline:
            queued_keys.add(key)
    with transaction.atomic():
        for event in events:
            if event.kind == TICKET_KIND and getattr(event, "ticket", None):
                suite_ticket_record(suite=suite, ticket=event.ticket, pushed_at_ms=(
                    event.timestamp_ms or int(now.timestamp() * 1000)))
        inserted = insert_new(CallbackEvent, list(rows.values()),
                              conflict=("suite", "dedupe_key"), returning=("id", "dedupe_key"))
        stored.new_ids = [pk for pk, key in inserted if key in queued_keys]
        if stored.new_ids:
            ids = list(stored.new_ids)
            transaction.on_commit(lambda: _enqueue(ids))
    stored.repeats = len(events) - len(inserted)
    return stored


def _enqueue(event_ids: list[int]) -> None:
    """Hand new events to Celery; a broker failure leaves them PENDING (reprocess from admin)."""
    from celery import current_app

    task = current_app.tasks.get(PROCESS_TASK)
    for event_id in event_ids:
        try:
            if task is not None:
                task.apply_async(args=[event_id], retry_policy=_RETRY)
            else:
                current_app.send_task(PROCESS_TASK, args=[event_id], retry_policy=_RETRY)
        except Exception:  # the reply must still go out: the event is stored
            logger.exception("callback event %s stored but not enqueued", event_id)


# A broker hiccup may cost a few hundred ms, never DingTalk's 1200 ms deadline.
_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.2}
