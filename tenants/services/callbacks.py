"""A suite's callback push (POST /callbacks/<suite_key>/): what differs for suites.

The path itself (checks, verification, storing, the reply) is callback_pipeline.py. A suite's
pushes are verified with its token and AES key and its suite key as the trailing key, except
the legacy check_create_suite_url, pushed before the suite exists (CREATE_SUITE_KEY); a push
naming another suite (SuiteKey, or SyncHTTP's subscribe_id) is refused; the legacy URL checks
want their Random echoed instead of "success".
"""

from __future__ import annotations

import json

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackSignatureError
from tenants.errors import (
    CallbackForbidden,
    CallbackTooLarge,
    CallbackUndecryptable,
    CallbackWrongSuite,
    SuiteNotFound,
)
from tenants.models import Suite
from tenants.selectors.suites import suite_cache_forget, suite_get_cached
from tenants.services.callback_pipeline import Receiver, Signed, callback_handle
from tenants.services.callback_store import RANDOM_REPLY_KINDS, URL_CHECK_KINDS

__all__ = ["CallbackTooLarge", "callback_receive"]


def callback_receive(*, suite_key: str, signature: str | None, timestamp: str | None,
                     nonce: str | None, body: bytes) -> dict:
    """Handle one push to a suite; the encrypted reply map, or CallbackRejected."""
    return callback_handle(_SUITES, key=suite_key, signature=signature, timestamp=timestamp,
                           nonce=nonce, body=body)


def _load(suite_key: str, fresh: bool) -> tuple[Suite | None, bool]:
    if fresh:
        suite_cache_forget(suite_key=suite_key)
    try:
        return suite_get_cached(suite_key=suite_key)
    except SuiteNotFound:
        return None, False


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


def _reply(events) -> str:
    """The legacy URL checks (PROTOCOL 7.2) want their Random echoed, not "success"."""
    for event in events:
        if event.kind in RANDOM_REPLY_KINDS and isinstance(getattr(event, "random", None), str):
            return event.random or "success"
    return "success"


def _verify_and_decrypt(suite: Suite, signature, timestamp, nonce, encrypt) -> Signed:
    """The legacy create-suite check is decrypted with the fixed key."""
    try:
        crypto = CallbackCrypto(token=suite.callback_token,
                                encoding_aes_key=suite.encoding_aes_key, key=suite.suite_key)
        # A signed message that is not UTF-8 is still DingTalk's: keep its bytes (escaped).
        return Signed(crypto, crypto.verify_and_decrypt(
            signature=signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt,
            errors="surrogateescape"))
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
            return Signed(legacy, plaintext)
    except (CallbackDecryptError, ValueError, AttributeError, RecursionError):
        pass
    raise CallbackUndecryptable(f"cannot decrypt the payload: {first_error}") from None


_SUITES = Receiver(label="suite", load=_load, verify=_verify_and_decrypt,
                   check=_check_same_suite, owner_fields=lambda suite: {"suite": suite},
                   reply=_reply)
