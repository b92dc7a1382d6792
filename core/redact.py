"""Masking secrets in payloads and auth info before the admin shows them."""

import json
from typing import Any

MASK = "********"
# Compared lower-cased without underscores, so permanent_code, permanentCode, SuiteTicket,
# suiteTicket, AuthCode and tmp_auth_code all match.
SECRET_KEYS = frozenset({
    "permanentcode", "chpermanentcode", "suiteticket", "authcode", "tmpauthcode",
    "accesstoken", "suiteaccesstoken", "suitesecret", "corpsecret", "appsecret", "token",
    "aeskey", "encodingaeskey", "licensecode", "encrypt",
})


def _is_secret(key: Any) -> bool:
    return isinstance(key, str) and key.lower().replace("_", "") in SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of `value` with secret keys masked, also inside JSON strings (SyncHTTP biz_data)."""
    if isinstance(value, dict):
        return {k: (MASK if _is_secret(k) and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        return json.dumps(redact(inner), ensure_ascii=False)
    return value


def redacted_json(value: Any) -> str:
    """Pretty JSON of the redacted value, for a <pre> block."""
    return json.dumps(redact(value), ensure_ascii=False, indent=2, sort_keys=True, default=str)
