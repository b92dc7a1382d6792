"""Where a webhook may be sent: http(s) URLs whose every address is public, checked when the
endpoint is saved, before each delivery, and on the connected socket itself.

The last check closes DNS rebinding: a name that resolved to a public address for the checks
can resolve to 127.0.0.1 a moment later for the connection; the socket's peer address is what
was really reached, so it is checked after connecting and before a byte is sent.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from api.services.webhooks_errors import WebhookHostUnresolved, WebhookUrlRefused

MAX_URL_LENGTH = 2000


class AddressRefused(Exception):
    """The connection reached an address that is not allowed (raised past urllib3's retries:
    it is no OSError, so nothing retries it as a connection error)."""


def address_allowed(address: str) -> bool:
    """Whether a webhook may be sent to this IP address (any, when the setting allows)."""
    if settings.API_WEBHOOK_ALLOW_PRIVATE:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    # is_global is False for private, loopback, link-local (169.254/16: cloud metadata),
    # shared (100.64/10), reserved and unspecified ranges; multicast is not a host.
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, IPv4 and IPv6 (the only DNS lookup of the checks)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def url_parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable webhook URL; WebhookUrlRefused otherwise."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"a webhook URL has 1-{MAX_URL_LENGTH} characters")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookUrlRefused("a webhook URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("the webhook URL cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRefused("a webhook URL is http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("a webhook URL carries no user or password (the signature "
                                "authenticates us)")
    if not parts.hostname:
        raise WebhookUrlRefused("the webhook URL has no host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def url_check(url: str) -> None:
    """WebhookUrlRefused unless `url` is acceptable and every address it resolves to is allowed
    (all of them: a name with one public and one private address is refused)."""
    _, host, port = url_parts(url)
    if settings.API_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise WebhookHostUnresolved("the webhook URL's host cannot be resolved",
                                    extra={"host": host}) from None
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise WebhookUrlRefused(
            "the webhook URL resolves to a private, loopback or link-local address",
            extra={"host": host, "addresses": refused})


def _checked(sock: socket.socket) -> socket.socket:
    peer = sock.getpeername()[0]
    if not address_allowed(peer):
        sock.close()
        raise AddressRefused(f"connected to {peer}, which is not a public address")
    return sock


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn())


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool,
                                                   "https": _CheckedHTTPSPool}


def checked_session() -> requests.Session:
    """A requests session whose every connection's peer is checked; no proxies from the
    environment (a proxy would hide the peer), no retries."""
    session = requests.Session()
    session.trust_env = False
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
