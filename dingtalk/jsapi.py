"""dd.config signatures (PROTOCOL-ISV 2.2): the page URL as DingTalk signs it, the string to
sign, and the SHA-256 (current docs) or SHA-1 (2016 docs) digest.

    from dingtalk.jsapi import normalize_url, sign, verify
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus, urlsplit

HASHES = ("sha256", "sha1")
# Browsers and proxies commonly cap URLs near 2 KB; a longer "page URL" is a mistake or abuse.
MAX_URL_LENGTH = 2048


class JsapiUrlError(ValueError):
    """The URL cannot be a page DingTalk opens: not http(s), no host, NUL or control
    characters, or longer than MAX_URL_LENGTH."""


def normalize_url(url: str) -> str:
    """The page URL as signed: the fragment dropped, the query decoded once with `+` as a space
    (iOS hands it over encoded, Android raw; Java's URLDecoder), everything before the query
    (scheme, userinfo, host, port, path) kept exactly as given: `http://h` and `http://h:80`
    are different pages to DingTalk (a classic 52013)."""
    if not isinstance(url, str):
        raise JsapiUrlError("url must be a string")
    if len(url) > MAX_URL_LENGTH:
        raise JsapiUrlError(f"url is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise JsapiUrlError("url contains NUL or control characters")
    page = url.split("#", 1)[0]
    try:
        parts = urlsplit(page)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise JsapiUrlError("url is not a valid URL (bad host or port)") from None
    if parts.scheme.lower() not in ("http", "https") or not page.lower().startswith(
            (f"{parts.scheme.lower()}://",)):
        raise JsapiUrlError("url must be an http or https URL")
    if not parts.hostname or not port_ok:
        raise JsapiUrlError("url has no host")
    base, qmark, query = page.partition("?")
    return f"{base}?{unquote_plus(query)}" if qmark else base


def string_to_sign(*, ticket: str, nonce_str: str, timestamp: int | str, url: str) -> str:
    """The four pairs in ASCII order of their key names, values raw (no escaping)."""
    return f"jsapi_ticket={ticket}&noncestr={nonce_str}&timestamp={timestamp}&url={url}"


def sign(*, ticket: str, nonce_str: str, timestamp: int | str, url: str,
         algorithm: str = "sha256") -> str:
    """Lowercase hex digest of the string to sign over the already normalised `url`."""
    if algorithm not in HASHES:
        raise ValueError(f"algorithm must be one of {HASHES}")
    plain = string_to_sign(ticket=ticket, nonce_str=nonce_str, timestamp=timestamp, url=url)
    return hashlib.new(algorithm, plain.encode("utf-8")).hexdigest()


def verify(signature: str, *, ticket: str, nonce_str: str, timestamp: int | str, url: str,
           algorithm: str = "sha256") -> bool:
    """Whether `signature` is this ticket's signature of the (normalised) url, in constant
    time."""
    expected = sign(ticket=ticket, nonce_str=nonce_str, timestamp=timestamp, url=url,
                    algorithm=algorithm)
    return hmac.compare_digest(expected.encode(), str(signature).encode())
