"""JSAPI tickets (PROTOCOL-ISV 2.1) and a dd.config signature verifier (2.2).

A ticket belongs to the app that asked for it in one corp: a suite's corp token gets the
(suite, corp) ticket, an internal app's token the appkey's, a legacy corpsecret token the
corp's. Current behaviour (default): the same ticket while it lives, each call extending it by
`jsapi_ticket_ttl_s`, dead `jsapi_ticket_max_age_s` after it was made whatever the extensions.
`jsapi_ticket_legacy` (the 2016 docs): every call makes a new ticket and the old one dies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from ..context import CallContext, ControlContext, ControlError
from ..registry import api, control

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_lock = threading.Lock()

# dd.error codes the container reports (PROTOCOL-ISV 2.2, KB/0013 rows 52011-52015).
TICKET_UNREADABLE = 52011
SIGNATURE_MISMATCH = 52013
URL_INVALID = 52014
NONCE_INVALID = 52015


@dataclass(slots=True)
class JsapiTicket:
    """One app's ticket in one corp; `owner` is ("suite", key), ("app", appkey) or
    ("corpsecret", corp_id)."""

    value: str = field(repr=False)
    owner: tuple[str, str]
    corp_id: str
    created_ms: int
    expires_ms: int

    def alive(self, now_ms: int, max_age_ms: int) -> bool:
        return now_ms < self.expires_ms and now_ms < self.created_ms + max_age_ms


class TicketBook:
    """The tickets of one emulator world (a reset starts a new book with the new State)."""

    def __init__(self, state) -> None:
        self.state = state
        self.tickets: dict[tuple[tuple[str, str], str], JsapiTicket] = {}


def book_for(emulator) -> TicketBook:
    """The emulator's ticket book; kept beside the State like the notice engine, so a reset
    (a new State object) forgets every ticket."""
    with _lock:
        book = getattr(emulator, "_jsapi_book", None)
        if book is None or book.state is not emulator.state:
            book = TicketBook(emulator.state)
            emulator._jsapi_book = book
        return book


def _owner(ctx: CallContext) -> tuple[str, str]:
    caller = ctx.caller
    assert caller is not None and caller.corp_id is not None
    if caller.kind == "suite_corp":
        return "suite", caller.suite_key or ""
    if caller.kind == "app":
        return "app", caller.appkey or ""
    return "corpsecret", caller.corp_id


@api("/get_jsapi_ticket")
def get_jsapi_ticket(ctx: CallContext) -> dict:
    """The caller's ticket for dd.config; `type=jsapi` (2016 docs) is accepted and ignored."""
    config, now = ctx.config, ctx.clock.now_ms()
    ttl_ms, max_age_ms = config.jsapi_ticket_ttl_s * 1000, config.jsapi_ticket_max_age_s * 1000
    key = (_owner(ctx), ctx.caller.corp_id)
    book = book_for(ctx.emulator)
    with ctx.state.lock:
        ticket = book.tickets.get(key)
        if config.jsapi_ticket_legacy or ticket is None or not ticket.alive(now, max_age_ms):
            # Legacy: the new ticket replaces the old at once, so signatures made with the old
            # one fail (52013) from now on.
            ticket = JsapiTicket(value=_new_value(), owner=key[0], corp_id=key[1],
                                 created_ms=now, expires_ms=now + ttl_ms)
            book.tickets[key] = ticket
        else:
            ticket.expires_ms = min(now + ttl_ms, ticket.created_ms + max_age_ms)
    return {"ticket": ticket.value, "expires_in": config.jsapi_ticket_ttl_s}


def _new_value() -> str:
    # The documented example ("dWk8xxxx") is opaque text; 86 characters like the 2016 example.
    return "".join(secrets.choice(_ALNUM) for _ in range(86))


# ---- the container's check ---------------------------------------------------------------

def container_url(href: str) -> str | None:
    """The page URL as the container signs it: no fragment, the query decoded once (iOS hands
    it over encoded, Android raw), scheme, authority and path exactly as the page has them.
    None when it is no http(s) URL with a host (52014)."""
    if not isinstance(href, str) or "\x00" in href:
        return None
    page = href.split("#", 1)[0]
    scheme, sep, rest = page.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    if not authority.rsplit("@", 1)[-1].split(":", 1)[0]:
        return None
    base, qmark, query = page.partition("?")
    return base + qmark + unquote_plus(query) if qmark else base


def _digests(text: str) -> dict[str, str]:
    data = text.encode("utf-8")
    return {"sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324 (DingTalk's 2016 choice)
            "sha256": hashlib.sha256(data).hexdigest()}


def _refuse(code: int | None, reason: str, message: str) -> dict:
    return {"ok": False, "errorCode": code, "reason": reason, "errorMessage": message}


def _owners_for_agent(emulator, corp_id: str, agent_id) -> list[tuple[str, str]] | None:
    """The ticket owners an agentId names in the corp; None when it names no app there."""
    state = emulator.state
    try:
        wanted = int(agent_id)
    except (TypeError, ValueError):
        return None
    owners: list[tuple[str, str]] = []
    for (suite_key, auth_corp), record in state.auths.items():
        if auth_corp == corp_id and record.active and record.agent_id == wanted:
            owners.append(("suite", suite_key))
    for app in state.apps.values():
        if app.corp_id == corp_id and app.agent_id == wanted:
            # A legacy corpsecret token's ticket serves the corp's internal apps too.
            owners += [("app", app.appkey), ("corpsecret", corp_id)]
    return owners or None


@control("/_emulator/corps/<corp_id>/jsapi/verify")
def jsapi_verify(ctx: ControlContext, corp_id: str) -> dict:
    """Would DingTalk's container accept this dd.config? {ok} or {ok: false, errorCode, reason}.

    The container signs the page URL with the app's *current* ticket, by SHA-1 or SHA-256,
    and compares; a ticket that is expired, never fetched or replaced (legacy) fails.
    """
    emulator = ctx.emulator
    if corp_id not in emulator.state.corps:
        raise ControlError(404, f"no corp {corp_id}")
    signature, nonce = ctx.arg("signature"), ctx.arg("nonceStr")
    timestamp, agent_id = ctx.arg("timeStamp"), ctx.arg("agentId")
    url = container_url(ctx.arg("url"))
    if url is None:
        return _refuse(URL_INVALID, "url_invalid", "url must be the page's http(s) URL")
    if not isinstance(nonce, str) or not nonce:
        return _refuse(NONCE_INVALID, "nonce_invalid", "nonceStr must be a non-empty string")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | str) or timestamp == "":
        return _refuse(SIGNATURE_MISMATCH, "timestamp_invalid", "timeStamp must be given")
    if not isinstance(signature, str) or not signature:
        return _refuse(SIGNATURE_MISMATCH, "signature_mismatch", "no signature")
    now, max_age = emulator.clock.now_ms(), emulator.config.jsapi_ticket_max_age_s * 1000
    with emulator.state.lock:
        owners = None
        if agent_id is not None:
            owners = _owners_for_agent(emulator, corp_id, agent_id)
            if owners is None:
                return _refuse(None, "agent_invalid", "无效的agent_id")
        tickets = [t for (owner, corp), t in book_for(emulator).tickets.items()
                   if corp == corp_id and (owners is None or owner in owners)
                   and t.alive(now, max_age)]
    if not tickets:
        return _refuse(TICKET_UNREADABLE, "ticket_unreadable",
                       "no valid jsapi ticket for this app in this corp (expired or never "
                       "fetched)")
    for ticket in tickets:
        plain = (f"jsapi_ticket={ticket.value}&noncestr={nonce}&timestamp={timestamp}"
                 f"&url={url}")
        for algorithm, digest in _digests(plain).items():
            if hmac.compare_digest(digest.encode(), signature.encode()):
                return {"ok": True, "hash": algorithm, "url": url,
                        "owner": list(ticket.owner)}
    return _refuse(SIGNATURE_MISMATCH, "signature_mismatch",
                   "the signature does not match the current ticket, nonceStr, timeStamp "
                   "and url")
