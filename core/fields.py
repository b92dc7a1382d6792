"""Model fields that encrypt tenant secrets at rest with rotatable Fernet keys."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: cannot store tenant secrets")
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The newest key encrypts; every configured key decrypts (so keys can be rotated)."""
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_str(value: str) -> str:
    try:
        return fernet().decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        # Never echo the ciphertext: it is useless to a reader and long.
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS (missing old key?)"
        ) from exc


def rotate_str(value: str) -> str:
    """Re-encrypt a stored ciphertext under the newest key."""
    return fernet().rotate(value.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; reads give back the plain string."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(value)


class EncryptedJSONField(models.TextField):
    """A JSON document stored encrypted (callback payloads carry permanent codes)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return json.loads(decrypt_str(value))

    def to_python(self, value):
        if isinstance(value, str) and value:
            return json.loads(value)
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        # ASCII escapes: a signed push may carry lone surrogates, which UTF-8 cannot encode.
        return encrypt_str(json.dumps(value, ensure_ascii=True, separators=(",", ":")))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))
