"""The ledger per (app, corp, user, day): DingTalk's daily rules applied before a send.

DingTalk answers errcode 0 and then silently drops a recipient who already had the app's daily
number of messages (500 internal, 100 ISV; PROTOCOL 3.1) or the same content that day (143105 /
143205, 143106 / 143206). dingsuite books every recipient it plans here and holds back those
DingTalk would drop. A tenant is one (app, corp), so the ledger is keyed by tenant.

A day is the calendar day in MESSAGING_DAY_TZ (Asia/Shanghai, as DingTalk and the emulator's
`day_mode: "calendar"` count), taken from core.clock. UNKNOWN entries (a send whose answer was
lost) count towards the daily cap but never hold identical content back: a resend the same
day is then dropped by DingTalk for those who did get it, which is recorded, not a failure.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from core import clock
from dingtalk.messages import compact_json
from messaging.models import LedgerEntry
from tenants.models import Tenant

# The reasons a recipient is held back (Recipient.code).
HELD_DAILY_CAP = "daily_cap"
HELD_IDENTICAL_CONTENT = "identical_content"
# Userids per query: 100,000 recipients must not become one 100,000-parameter statement.
_CHUNK = 5000


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.MESSAGING_DAY_TZ)


def ledger_day(*, at: datetime | None = None) -> date:
    """DingTalk's day for `at` (default: now on dingsuite's clock)."""
    return (at or clock.now()).astimezone(_tz()).date()


def ledger_day_start(*, day: date) -> datetime:
    """When `day` begins (aware)."""
    return datetime.combine(day, time.min, tzinfo=_tz())


def ledger_next_day_start(*, at: datetime | None = None) -> datetime:
    """When the day after `at`'s begins: deferred recipients are due then."""
    return ledger_day_start(day=ledger_day(at=at) + timedelta(days=1))


def daily_cap_for(*, tenant: Tenant) -> int:
    """Messages per user per day DingTalk allows this tenant's app."""
    if tenant.kind == Tenant.Kind.INTERNAL_APP:
        return settings.MESSAGING_DAILY_CAP_INTERNAL
    return settings.MESSAGING_DAILY_CAP_ISV


def content_digest_of(*, msg: dict[str, Any] | None = None, template_id: str = "",
                   template_data: dict[str, Any] | None = None) -> str:
    """sha256 of the canonical content: the msg's JSON with sorted keys, or the template id
    and its data (what DingTalk, and the emulator, compare as "identical content")."""
    content: Any = msg if msg is not None else {"template_id": template_id,
                                                "data": template_data or {}}
    canonical = compact_json(_sorted(content))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def ledger_admit(*, tenant: Tenant, day: date, userids: Iterable[str], content_digest: str,
                 daily_cap: int) -> tuple[list[str], dict[str, str]]:
    """Who may be sent this content today: (admitted in the given order, {userid: reason}).

    Call it inside the transaction that books the admitted (ledger_book): it locks the tenant's
    row until that transaction ends, so two planners never admit past the cap together.
    """
    users = list(dict.fromkeys(userids))
    with transaction.atomic():
        list(Tenant.objects.select_for_update().filter(pk=tenant.pk).order_by().values_list("pk"))
        used: Counter[str] = Counter()
        same: set[str] = set()
        for chunk in _chunks(users):
            rows = LedgerEntry.objects.filter(tenant=tenant, day=day, userid__in=chunk)
            for userid, digest, state in rows.values_list("userid", "content_digest", "state"):
                used[userid] += 1
                if digest == content_digest and state == LedgerEntry.State.BOOKED:
                    same.add(userid)
    admitted: list[str] = []
    held: dict[str, str] = {}
    for userid in users:
        if userid in same:
            held[userid] = HELD_IDENTICAL_CONTENT
        elif used[userid] >= daily_cap:
            held[userid] = HELD_DAILY_CAP
        else:
            admitted.append(userid)
    return admitted, held


def ledger_book(*, tenant: Tenant, day: date, userids: Iterable[str], content_digest: str,
                state: str = LedgerEntry.State.BOOKED) -> None:
    """Book the content for these users on `day`. Booking BOOKED settles an UNKNOWN entry;
    booking UNKNOWN never downgrades a BOOKED one."""
    users = list(dict.fromkeys(userids))
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(tenant=tenant, day=day, userid=u, content_digest=content_digest,
                     state=state) for u in users],
        ignore_conflicts=True, batch_size=_CHUNK)
    if state == LedgerEntry.State.BOOKED:
        for chunk in _chunks(users):
            LedgerEntry.objects.filter(
                tenant=tenant, day=day, content_digest=content_digest, userid__in=chunk,
                state=LedgerEntry.State.UNKNOWN).update(state=LedgerEntry.State.BOOKED)


def ledger_confirm(*, tenant: Tenant, day: date, userids: Iterable[str],
                   content_digest: str) -> None:
    """Entries booked earlier (planning) are BOOKED now: the UNKNOWN ones a lost answer left
    become BOOKED (one UPDATE; nothing is inserted)."""
    for chunk in _chunks(list(dict.fromkeys(userids))):
        LedgerEntry.objects.filter(
            tenant=tenant, day=day, content_digest=content_digest, userid__in=chunk,
            state=LedgerEntry.State.UNKNOWN).update(state=LedgerEntry.State.BOOKED)


def ledger_release(*, tenant: Tenant, day: date, userids: Iterable[str],
                   content_digest: str) -> int:
    """Give back what was booked for a send that certainly reached nobody (DingTalk refused
    the call, or it was cancelled before sending); returns the entries removed."""
    removed = 0
    for chunk in _chunks(list(dict.fromkeys(userids))):
        removed += LedgerEntry.objects.filter(
            tenant=tenant, day=day, content_digest=content_digest, userid__in=chunk,
        ).delete()[0]
    return removed


def ledger_mark_unknown(*, tenant: Tenant, day: date, userids: Iterable[str],
                        content_digest: str) -> None:
    """A send's answer was lost: its bookings may or may not have reached DingTalk (UNKNOWN
    entries count towards the cap, never hold identical content back)."""
    for chunk in _chunks(list(dict.fromkeys(userids))):
        LedgerEntry.objects.filter(
            tenant=tenant, day=day, content_digest=content_digest, userid__in=chunk,
        ).update(state=LedgerEntry.State.UNKNOWN)
