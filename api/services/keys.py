"""API keys: create (the plain key is returned once), authenticate, revoke.

A key is `dsk_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole key is
compared in constant time. The secret has 256 bits of entropy, so a plain SHA-256 is enough
(there is nothing to brute-force that a slow hash would protect).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from api.errors import ApiKeyInvalid
from api.models import ApiKey
from core import clock
from tenants.models import Suite, Tenant

logger = logging.getLogger("api.keys")

KEY_PREFIX = "dsk_"
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_EVERY = timedelta(seconds=60)
_MAX_KEY_LENGTH = 128
_PREFIX_RE = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str  # shown once; never stored

    def __repr__(self) -> str:
        return f"CreatedKey({self.api_key!r})"


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def api_key_create(*, name: str, suite: Suite | None = None, app: Tenant | None = None,
                   tenants: Iterable[Tenant] = (), throttle_rate: str = "") -> CreatedKey:
    """A new key for a suite (optionally only some of its tenants) or for an internal app."""
    name = (name or "").strip()
    tenants = list(tenants)
    api_key_check(name=name, suite=suite, app=app, tenants=tenants, throttle_rate=throttle_rate)
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, suite=suite, app=app, prefix=prefix,
                                    key_hash=_digest(plaintext), throttle_rate=throttle_rate)
        if tenants:
            key.tenants.set(tenants)
    logger.info("API key %s created for %s", prefix, key.owner_label)
    return CreatedKey(api_key=key, plaintext=plaintext)


def api_key_check(*, name: str, suite: Suite | None, app: Tenant | None,
                  tenants: Iterable[Tenant], throttle_rate: str) -> None:
    """ApiKeyInvalid unless a key with these settings can be made (the admin's form asks too)."""
    if not name or len(name) > 100:
        raise ApiKeyInvalid("a key needs a name of 1-100 characters")
    if (suite is None) == (app is None):
        raise ApiKeyInvalid("a key belongs to exactly one suite or one internal app")
    if app is not None and app.kind != Tenant.Kind.INTERNAL_APP:
        raise ApiKeyInvalid("`app` must be an internal app; a suite's tenant is reached "
                            "through a key of its suite")
    if any(suite is None or t.suite_id != suite.pk for t in tenants):
        raise ApiKeyInvalid("a key can be limited only to tenants of its own suite")
    if throttle_rate:
        num, _, period = throttle_rate.partition("/")
        if not num.isdigit() or int(num) < 1 or not period or period[0] not in "smhd":
            raise ApiKeyInvalid("throttle_rate is like 600/min (per s, min, hour or day)")


def api_key_authenticate(*, plaintext: str) -> ApiKey | None:
    """The live key `plaintext` names, or None (unknown, malformed or revoked: one answer)."""
    if not isinstance(plaintext, str) or len(plaintext) > _MAX_KEY_LENGTH:
        return None
    if not plaintext.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = plaintext[len(KEY_PREFIX):].partition("_")
    # Prefixes are 8 hex characters (api_key_create): anything else (a NUL, which PostgreSQL
    # refuses in a query, or any other text) names no key and is never looked up.
    if not _PREFIX_RE.fullmatch(prefix) or not secret:
        return None
    key = (ApiKey.objects.select_related("suite", "app", "app__suite")
           .filter(prefix=prefix).first())
    # Compared even when no row matched, so timing does not tell which prefixes exist.
    stored = key.key_hash if key is not None else "0" * 64
    if not hmac.compare_digest(stored, _digest(plaintext)) or key is None or key.is_revoked:
        return None
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key: every later request with it is answered 401. Revoking twice is harmless."""
    now = clock.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    logger.info("API key %s revoked", api_key.prefix)
    return api_key
