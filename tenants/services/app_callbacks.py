"""An internal app's callback push (POST /callbacks/apps/<key>/): what differs for apps.

The path itself is callback_pipeline.py, the same as the suites'. An app with no callback token
and AES key answers like an unknown key. The trailing key of the plaintext (PROTOCOL 8.1 step
3) is the corp id for internal apps, or the appkey for events configured in the developer
console: each app says which (Tenant.callback_trailing_key). A push naming another corp is
refused. Rows are stored against the app's tenant.
"""

from __future__ import annotations

from dingtalk.crypto import CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackSignatureError
from tenants.errors import (
    CallbackForbidden,
    CallbackUndecryptable,
    CallbackWrongSuite,
    TenantNotFound,
)
from tenants.models import Tenant
from tenants.selectors.apps import app_cache_forget, app_get_cached
from tenants.services.callback_input import refuse_unknown_key
from tenants.services.callback_pipeline import Receiver, Signed, callback_handle


def app_callback_receive(*, app_key: str, signature: str | None, timestamp: str | None,
                         nonce: str | None, body: bytes) -> dict:
    """Handle one push to an internal app; the encrypted reply map, or CallbackRejected."""
    return callback_handle(_APPS, key=app_key, signature=signature, timestamp=timestamp,
                           nonce=nonce, body=body)


def _load(app_key: str, fresh: bool) -> tuple[Tenant | None, bool]:
    if fresh:
        app_cache_forget(app_key=app_key)
    try:
        return app_get_cached(app_key=app_key)
    except TenantNotFound:
        return None, False


def _check_same_corp(tenant: Tenant, events) -> None:
    for event in events:
        if event.corp_id and event.corp_id != tenant.corp_id:
            raise CallbackWrongSuite("the push names another corp than its callback URL's app",
                                     extra={"named": "corp_id"})


def _verify_and_decrypt(tenant: Tenant, signature, timestamp, nonce, encrypt) -> Signed:
    if not (tenant.callback_token and tenant.encoding_aes_key):
        # No callback configured for this app: answered like an unknown key.
        raise refuse_unknown_key(signature=signature, timestamp=timestamp, nonce=nonce,
                                 encrypt=encrypt)
    trailing = (tenant.appkey if tenant.callback_trailing_key == Tenant.TrailingKey.APPKEY
                else tenant.corp_id)
    crypto = CallbackCrypto(token=tenant.callback_token,
                            encoding_aes_key=tenant.encoding_aes_key, key=trailing)
    try:
        # A signed message that is not UTF-8 is still DingTalk's: keep its bytes (escaped).
        return Signed(crypto, crypto.verify_and_decrypt(
            signature=signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt,
            errors="surrogateescape"))
    except CallbackSignatureError:
        raise CallbackForbidden("callback signature mismatch") from None
    except CallbackDecryptError as exc:
        raise CallbackUndecryptable(f"cannot decrypt the payload: {exc}") from None


_APPS = Receiver(label="app", load=_load, verify=_verify_and_decrypt, check=_check_same_corp,
                 owner_fields=lambda tenant: {"suite": None, "tenant": tenant},
                 reply=lambda events: "success")
