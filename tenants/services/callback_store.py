"""Writing one push into the inbox: tickets applied, events inserted once, in one short commit."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field

from django.db import DataError, connection, transaction

from core import clock
from core.upserts import insert_new
from tenants.models import CallbackEvent, Suite, Tenant
from tenants.services.event_queue import callback_events_enqueue_after_reply
from tenants.services.tickets import suite_ticket_record

# Nothing to do after the reply: stored for the record, never enqueued.
RANDOM_REPLY_KINDS = frozenset({"check_create_suite_url", "check_update_suite_url"})
URL_CHECK_KINDS = RANDOM_REPLY_KINDS | {"check_url"}
TICKET_KIND = "suite_ticket"
UNPARSED_KIND = "unparsed"


@dataclass
class Stored:
    new_ids: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    repeats: int = 0


def _nested_only():
    """A savepoint when a caller's transaction is open (so a refused statement can fall back
    to the unparsed row), and nothing otherwise: autocommit statements need no BEGIN/COMMIT."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _column(value: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; a signed push may. The payload column keeps the original
    # (encrypted), the indexed columns a readable copy.
    return (value or "").replace("\x00", "\ufffd")[:limit]


def _owner(suite: Suite | None, tenant: Tenant | None) -> tuple[dict, tuple[str, str]]:
    """The row's owner columns and its dedupe constraint: the suite whose URL the push came
    to, or (suite None) the internal app's tenant."""
    if suite is None:
        return {"tenant_id": tenant.pk}, ("tenant", "dedupe_key")
    return {"suite_id": suite.pk}, ("suite", "dedupe_key")


def events_store(*, suite: Suite | None, events: list, plaintext: str,
                 tenant: Tenant | None = None) -> Stored:
    """Store the parsed events of one push. What cannot be stored as parsed (a value PostgreSQL
    refuses, nesting too deep to serialise again, text UTF-8 cannot encode) is stored as the
    one unparsed row of its plaintext instead, so a signed push is never lost."""
    try:
        return _store(suite, events, tenant)
    except (DataError, RecursionError, UnicodeError, ValueError):
        return unparsed_store(suite=suite, tenant=tenant, text=plaintext)


def unparsed_store(*, suite: Suite | None, text: str, tenant: Tenant | None = None) -> Stored:
    """Keep a signed push we cannot read as DingTalk's JSON, for an operator to look at."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    now = clock.now()
    owner, conflict = _owner(suite, tenant)
    row = {**owner, "kind": UNPARSED_KIND, "corp_id": "",
           "dedupe_key": f"unparsed:{digest}", "payload": {"unparsed_plaintext": text},
           "status": CallbackEvent.Status.IGNORED, "processed_at": now, "received_at": now,
           "last_error": "signed by DingTalk but not a JSON object of its callback form; "
                         "kept for an operator, nothing to process"}
    with _nested_only():
        inserted = insert_new(CallbackEvent, [row], conflict=conflict)
    return Stored(kinds=[UNPARSED_KIND], repeats=1 - len(inserted))


def _store(suite: Suite | None, events: list, tenant: Tenant | None = None) -> Stored:
    """One statement inserts every new event (repeats skipped), in autocommit: a single INSERT
    is atomic by itself, and an explicit transaction would cost two more round trips (BEGIN,
    COMMIT) on the hot path. A ticket is recorded first in its own statement: if the event
    insert then fails, DingTalk's retry finds the ticket already there. The processing tasks
    are handed to the publisher once the insert is committed."""
    stored = Stored(kinds=[event.kind for event in events])
    now = clock.now()
    owner, conflict = _owner(suite, tenant)
    rows, queued_keys = {}, set()
    for event in events:
        inline = event.kind == TICKET_KIND or event.kind in URL_CHECK_KINDS
        key = _column(event.dedupe_key, 255)
        rows.setdefault(key, {
            **owner, "kind": _column(event.kind, 64),
            "corp_id": _column(event.corp_id, 64), "dedupe_key": key, "payload": event.raw,
            "status": CallbackEvent.Status.DONE if inline else CallbackEvent.Status.PENDING,
            "processed_at": now if inline else None, "received_at": now,
            "next_attempt_at": None if inline else now,
        })
        if not inline:
            queued_keys.add(key)
    with _nested_only():
        for event in events:
            if suite and event.kind == TICKET_KIND and getattr(event, "ticket", None):
                suite_ticket_record(suite=suite, ticket=event.ticket, pushed_at_ms=(
                    event.timestamp_ms or int(now.timestamp() * 1000)))
        inserted = insert_new(CallbackEvent, list(rows.values()), conflict=conflict,
                              returning=("id", "dedupe_key"))
    stored.new_ids = [pk for pk, key in inserted if key in queued_keys]
    if stored.new_ids:
        callback_events_enqueue_after_reply(event_ids=stored.new_ids)
    stored.repeats = len(events) - len(inserted)
    return stored
