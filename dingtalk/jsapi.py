"""dd.config signatures (PROTOCOL-ISV 2.2): the page URL as DingTalk signs it, the string to
sign, and the SHA-256 (current docs) or SHA-1 (2016 docs) digest.

    from dingtalk.jsapi import normalize_url, sign, verify
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus, urlsplit

import idna

HASHES = ("sha256", "sha1")
# Browsers and proxies commonly cap URLs near 2 KB; a longer "page URL" is a mistake or abuse.
MAX_URL_LENGTH = 2048


class JsapiUrlError(ValueError):
    """The URL cannot be a page DingTalk opens: not http(s), no host, NUL or control
    characters, or longer than MAX_URL_LENGTH."""


def normalize_url(url: str) -> str:
    """The page URL as signed: the fragment dropped, the query decoded once with `+` as a space
    (iOS hands it over encoded, Android raw; Java's URLDecoder), the scheme and host as the
    browser's location.href has them (lower case, a Unicode host as punycode), userinfo, port
    and path kept exactly as given: `http://h` and `http://h:80` are different pages to
    DingTalk (a classic 52013)."""
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
    base = _browser_base(base, parts.scheme)
    return f"{base}?{unquote_plus(query)}" if qmark else base


def _browser_base(base: str, scheme: str) -> str:
    """`base` (all before the query) with the scheme and host as location.href has them: the
    official sample lowercases the scheme (java.net.URL), and the container signs the URL the
    browser shows, whose host is lower case and, if Unicode, punycode (WHATWG URL)."""
    rest = base[len(scheme) + 3:]
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal: hex digits, case-folded by browsers
        host, port = hostport.partition("]")[0] + "]", hostport.partition("]")[2]
    else:
        host, colon, port = hostport.partition(":")
        port = colon + port
    if host.isascii():
        host = host.lower()
    else:
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise JsapiUrlError("url's host is no valid internationalised domain name") from None
    return f"{scheme.lower()}://{userinfo}{at}{host}{port}{slash}{path}"


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
