"""An internal app's callback push: the suites' pipeline (callbacks.py) for /callbacks/apps/<key>/.

The same order and the same answers: checks that need no secret first, alike for every key
(callback_input.py); an unknown key, or an app with no callback configured, gets the bad
signature's answer; the signature before the payload; a signed push is always stored (against
the app's tenant) and answered `success`, except one naming another corp. The trailing key of
the plaintext (PROTOCOL 8.1 step 3) is the corp id for internal apps, or the appkey for events
configured in the developer console: each app says which (Tenant.callback_trailing_key).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from dingtalk.crypto import CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackSignatureError
from dingtalk.events import parse_callback
from tenants.errors import (
    CallbackForbidden,
    CallbackRejected,
    CallbackTooLarge,
    CallbackUndecryptable,
    CallbackWrongSuite,
    ServiceError,
    TenantNotFound,
)
from tenants.models import Tenant
from tenants.selectors.apps import app_cache_forget, app_get_cached
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


def app_callback_receive(*, app_key: str, signature: str | None, timestamp: str | None,
                         nonce: str | None, body: bytes) -> dict:
    """Handle one push to an internal app and return the encrypted reply map;
    CallbackRejected otherwise. Logged like the suites' pushes (key escaped, outcome only)."""
    started = time.perf_counter()
    try:
        reply, stored = _receive(app_key=app_key, signature=signature, timestamp=timestamp,
                                 nonce=nonce, body=body)
    except ServiceError as exc:
        logger.warning("callback rejected app=%s status=%s code=%s reason=%s",
                       shown(app_key), exc.http_status, exc.code,
                       exc.extra.get("log_reason", exc.message))
        raise
    logger.info("callback accepted app=%s kinds=%s new=%d repeats=%d ms=%.1f",
                shown(app_key), ",".join(stored.kinds), len(stored.new_ids), stored.repeats,
                (time.perf_counter() - started) * 1000)
    return reply


def _app(app_key: str, refuse) -> tuple[Tenant, bool]:
    try:
        tenant, cached = app_get_cached(app_key=app_key)
    except TenantNotFound:
        raise refuse() from None
    return tenant, cached


def _receive(*, app_key, signature, timestamp, nonce, body) -> tuple[dict, Stored]:
    if len(body) > settings.CALLBACK_MAX_BODY_BYTES:
        raise CallbackTooLarge("callback body too large")
    check_query(signature=signature, timestamp=timestamp, nonce=nonce)
    encrypt = encrypt_field(body)

    def refuse():
        return refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                  encrypt=encrypt)

    if not SUITE_KEY_RE.fullmatch(app_key):
        raise refuse()
    tenant, cached = _app(app_key, refuse)
    try:
        crypto, plaintext = _verify_and_decrypt(tenant, refuse, signature, timestamp, nonce,
                                                encrypt)
    except CallbackRejected:
        if not cached:
            raise
        # The secrets may have been rotated since this process cached the app.
        app_cache_forget(app_key=app_key)
        tenant, _ = _app(app_key, refuse)
        crypto, plaintext = _verify_and_decrypt(tenant, refuse, signature, timestamp, nonce,
                                                encrypt)
    document = plaintext_document(plaintext)
    if document is None:
        return crypto.encrypted_reply("success"), unparsed_store(suite=None, tenant=tenant,
                                                                 text=plaintext)
    events = parse_callback(document)
    for event in events:
        if event.corp_id and event.corp_id != tenant.corp_id:
            raise CallbackWrongSuite("the push names another corp than its callback URL's app",
                                     extra={"named": "corp_id"})
    stored = events_store(suite=None, tenant=tenant, events=events, plaintext=plaintext)
    return crypto.encrypted_reply("success"), stored


def _verify_and_decrypt(tenant: Tenant, refuse, signature, timestamp, nonce, encrypt):
    """(crypto to reply with, plaintext)."""
    if not (tenant.callback_token and tenant.encoding_aes_key):
        raise refuse()  # no callback configured for this app: like an unknown key
    trailing = (tenant.appkey if tenant.callback_trailing_key == Tenant.TrailingKey.APPKEY
                else tenant.corp_id)
    crypto = CallbackCrypto(token=tenant.callback_token,
                            encoding_aes_key=tenant.encoding_aes_key, key=trailing)
    try:
        # A signed message that is not UTF-8 is still DingTalk's: keep its bytes (escaped).
        return crypto, crypto.verify_and_decrypt(
            signature=signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt,
            errors="surrogateescape")
    except CallbackSignatureError:
        raise CallbackForbidden("callback signature mismatch") from None
    except CallbackDecryptError as exc:
        raise CallbackUndecryptable(f"cannot decrypt the payload: {exc}") from None
