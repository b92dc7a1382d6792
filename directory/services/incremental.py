"""Pushed contact changes applied to the mirror (PROTOCOL-ISV 4.3), idempotently.

SyncHTTP biz_type 13/14 rows carry the entity's latest state (the v1 user/get and
department/get objects), converted by the same functions as the full sync's answers. Rows are:
- deduplicated on DingTalk's eventId (else the row's own dedupe key), in the write's
  transaction, so a re-delivered or retried row changes nothing;
- ordered per entity by the row's modification time: a row older than the state the entity
  holds is ignored (syncSeq has no business meaning and is never read);
- leave/remove rows (ids only) delete the entity (soft);
- a user in a department the mirror has not seen is kept, and the department fetched lazily.
HTTP-push contact events (internal apps) carry ids only: each id is fetched again with v2
user/get or department/get; gone or out of scope (60121, 33012, 60003, 50002, 50004) deletes it.
At most DIRECTORY_REFETCH_PER_EVENT ids an event: a sync of the tenant is queued for the rest.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from core import clock
from core.storable import is_storable_id
from core.upserts import insert_new
from dingtalk.events.types import ContactEvent
from directory.models import AppliedContactEvent, Department, DirectorySync, User
from directory.services import store
from directory.services.calls import PacedCaller, visible
from directory.services.convert import (
    MAX_USERID,
    Unmirrorable,
    dept_from_v1,
    dept_from_v2,
    dept_key,
    user_from_v1,
    user_from_v2_get,
)
from directory.signals import directory_changed
from tenants.models import CallbackEvent, Tenant
from tenants.selectors.tenants import tenant_find
from tenants.services.clients import corp_client

logger = logging.getLogger(__name__)

DONE = CallbackEvent.Status.DONE
IGNORED = CallbackEvent.Status.IGNORED
_GONE_ACTIONS = {"leave", "remove"}
ROOT_DEPT_ID = 1
MAX_FETCHES_PER_ROW = 20


def _tenant_of(event: CallbackEvent, parsed: ContactEvent) -> Tenant | None:
    if event.tenant_id is not None:
        return event.tenant
    if event.suite_id is None:
        return None
    return tenant_find(suite=event.suite, corp_id=parsed.corp_id or event.corp_id)


def _ids(parsed: ContactEvent) -> list[str]:
    ids = list(parsed.ids)
    if not ids:
        # The leave row's event-page form names the user in its data (PROTOCOL-ISV 4.3).
        named = parsed.data.get("userId") or parsed.data.get("UserId")
        ids = [str(i) for i in (named if isinstance(named, list) else [named])
               if isinstance(i, str | int) and not isinstance(i, bool) and i]
    if parsed.object_type != "user":
        return ids
    # A userid the mirror cannot hold (NUL, a lone surrogate, past 64 characters) names no
    # row of it: dropped here rather than sent to PostgreSQL, which refuses the statement.
    usable = [i for i in ids if is_storable_id(i, MAX_USERID)]
    if ids and not usable:
        raise Unmirrorable(f"not a storable userid: {ids[0][:40]!r}")
    return usable


def contact_event_apply(*, event: CallbackEvent, parsed: ContactEvent) -> tuple[str, str]:
    """The receiver of contact_user / contact_dept events (tenants.event_receivers)."""
    if parsed.object_type not in ("user", "dept"):
        return IGNORED, "roles are not mirrored"
    tenant = _tenant_of(event, parsed)
    if tenant is None or not DirectorySync.objects.filter(tenant=tenant).exists():
        # No mirror to keep (kept in the inbox as the record, as before): a mirror's first
        # full sync reads the current state anyway.
        return DONE, ""
    if not tenant.is_active:
        # Relieved (the data lifecycle holds the mirror to export or delete it), stopped or
        # suspended: nothing is written for it; a sync after it comes back reads the state.
        return IGNORED, "tenant is not authorized"
    data = parsed.data or {}
    key = _applied_key(data.get("eventId"), parsed.dedupe_key or event.dedupe_key)
    if AppliedContactEvent.objects.filter(tenant=tenant, key=key).exists():
        return IGNORED, "duplicate: this contact event was applied already"
    try:
        ids = _ids(parsed)
    except Unmirrorable as error:
        return IGNORED, f"not mirrored: {error}"
    if not ids:
        return IGNORED, "contact event names no user or department"
    now_ms = int(clock.time() * 1000)
    # A row stamped ahead of our clock (DingTalk's skew, or a bad gmt_modified) is taken as at
    # most a little ahead: stored as is it would outrank every later push and every full sync,
    # and keep the entity from being changed or deleted until that time came.
    stamp = min(parsed.timestamp_ms or now_ms, now_ms + settings.DIRECTORY_ROW_MAX_AHEAD * 1000)
    try:
        if "EventType" in data or not _carries_object(parsed, data):
            return _refetch_record(tenant, key, parsed.object_type, ids)
        changes = [(parsed.object_type, parsed.action, ids, data, stamp)]
        return _record(tenant, key, changes)
    except Unmirrorable as error:
        # Nothing was written (the write's transaction rolled back): a re-delivery ends here too.
        return IGNORED, f"not mirrored: {error}"


def _applied_key(event_id: Any, dedupe_key: str) -> str:
    """The AppliedContactEvent key: DingTalk's eventId, else the row's dedupe key. An eventId
    too long for the column or not storable (NUL, lone surrogates) is kept as its digest, never
    cut short: two long ids sharing a prefix would make the second row a "duplicate"."""
    text = "" if event_id is None or isinstance(event_id, dict | list) else str(event_id)
    if not text:
        return f"row:{dedupe_key}"[:255]
    if is_storable_id(text, 200):
        return f"event:{text}"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"event:sha256:{digest}"


def _carries_object(parsed: ContactEvent, data: dict[str, Any]) -> bool:
    if parsed.action in _GONE_ACTIONS:
        return True
    return bool(data.get("userid") if parsed.object_type == "user" else data.get("id"))


def _refetch_record(tenant: Tenant, key: str, object_type: str,
                    ids: list[str]) -> tuple[str, str]:
    """Re-fetch an ids-only event's ids and apply them; past the cap, a full sync reads the rest.

    Bounded: one push naming thousands of ids must not become thousands of DingTalk calls in
    one event (minutes of paced calls holding the inbox's lease); a sync, which coalesces with
    any other already asked for, reads the same state at its own pace."""
    from directory.services.sync import sync_request

    ids = list(dict.fromkeys(ids))
    cap = settings.DIRECTORY_REFETCH_PER_EVENT
    status, note = _record(tenant, key, _refetch(tenant, object_type, ids[:cap]))
    if status != DONE or len(ids) <= cap:
        return status, note
    if not DirectorySync.objects.filter(tenant=tenant).exists():
        return status, note  # the mirror was deleted meanwhile (the tenant's data lifecycle)
    sync_request(tenant=tenant, reason="contact_push")
    rest = f"re-fetched {cap} of {len(ids)} ids; a full sync was queued for the rest"
    return DONE, f"{note}; {rest}" if note else rest


def _refetch(tenant: Tenant, object_type: str, ids: list[str]) -> list[tuple]:
    """Each id read again (no transaction): the state to apply, at the time it was read."""
    client, caller = corp_client(tenant), PacedCaller(tenant)
    changes = []
    for one in ids:
        stamp = int(clock.time() * 1000)  # before the read: a newer row applied meanwhile wins
        if object_type == "user":
            raw = visible(caller, "topapi/v2/user/get",
                          lambda u=one: client.contacts.user_get(u).raw)
            found = None if raw is None else user_from_v2_get(raw)
        else:
            dept_id = dept_key(one)
            raw = visible(caller, "topapi/v2/department/get",
                          lambda d=dept_id: client.contacts.department_get(d).raw)
            found = None if raw is None else dept_from_v2(raw)
        changes.append((object_type, "fetched" if found else "remove", [one], found, stamp))
    return changes


def _write_lock(tenant: Tenant):
    """Inside a mirror write's transaction: take the tenant's sync row lock, then the time.

    Every write of a tenant's mirror (these, and each sync step) holds this lock, so they
    commit in the order of the `now` they stamp on `updated_at`: the newest stamp, which the
    ETag reads, moves with every committed change. A `now` taken before waiting could be older
    than a stamp committed meanwhile, and the ETag would not move. None: the mirror is gone."""
    sync = DirectorySync.objects.select_for_update().filter(tenant=tenant).only(
        "generation").first()
    return None if sync is None else (sync.generation, clock.now())


def _record(tenant: Tenant, key: str, changes: list[tuple]) -> tuple[str, str]:
    with transaction.atomic():
        locked = _write_lock(tenant)
        if locked is None:
            return DONE, ""  # the mirror was deleted meanwhile (the tenant's data lifecycle)
        generation, now = locked
        if not insert_new(AppliedContactEvent, [{"tenant_id": tenant.pk, "key": key,
                                                 "applied_at": now}],
                          conflict=("tenant", "key")):
            return IGNORED, "duplicate: this contact event was applied already"
        moved = 0
        for object_type, action, ids, obj, stamp in changes:
            moved += _apply_one(tenant, object_type, action, ids, obj, stamp, now)
        if moved:
            transaction.on_commit(lambda: directory_changed.send(
                sender=Tenant, tenant=tenant, reason="rows", generation=generation))
    if not moved:
        return DONE, "no change: the mirror holds this state or a newer one"
    return DONE, ""


def _apply_one(tenant, object_type, action, ids, obj, stamp, now) -> int:
    model = User if object_type == "user" else Department
    if action in _GONE_ACTIONS:
        keys = ids if model is User else [dept_key(i) for i in ids]
        return store.soft_delete(model, tenant=tenant, keys=keys, modified_ms=stamp, now=now)
    if object_type == "user":
        fields = obj if action == "fetched" else user_from_v1(obj)
        written = store.users_upsert(tenant=tenant, users=[fields], modified_ms=stamp, now=now)
        _fetch_missing(tenant, set(fields.memberships) if written.applied else set())
    else:
        fields = obj if action == "fetched" else dept_from_v1(obj, dept_id=dept_key(ids[0]))
        written = store.depts_upsert(tenant=tenant, depts=[fields], modified_ms=stamp, now=now)
        if written.applied:
            _complete_dept(tenant, fields.dept_id)
    return len(written.inserted) + len(written.changed)


def _complete_dept(tenant: Tenant, dept_id: int) -> None:
    """A department without its parent (ISV v1 rows carry no parentid) is fetched with v2 get;
    one whose parent the mirror has not seen gets its parent fetched."""
    from directory.tasks import dept_fetch

    row = Department.objects.get(tenant=tenant, dept_id=dept_id)
    if row.parent_id is None and row.dept_id != ROOT_DEPT_ID:
        dept_fetch.delay_on_commit(tenant.pk, row.dept_id)
    elif row.parent_id is not None:
        _fetch_missing(tenant, {row.parent_id})


def _fetch_missing(tenant: Tenant, dept_ids: set[int]) -> None:
    """Queue a fetch of each department the mirror has no row for (dangling references)."""
    from directory.tasks import dept_fetch

    if not dept_ids:
        return
    known = set(Department.objects.filter(tenant=tenant, dept_id__in=dept_ids)
                .values_list("dept_id", flat=True))
    # Bounded: one row naming thousands of unseen departments must not become thousands of
    # DingTalk calls; the next full sync reads the rest (their memberships are kept).
    for dept_id in sorted(dept_ids - known)[:MAX_FETCHES_PER_ROW]:
        dept_fetch.delay_on_commit(tenant.pk, dept_id)


def department_fetch(*, tenant: Tenant, dept_id: int) -> bool:
    """Read one department (v2 get) into the mirror; False when it is gone or out of scope."""
    if not tenant.is_active:
        return False
    caller = PacedCaller(tenant)
    client = corp_client(tenant)
    stamp = int(clock.time() * 1000)  # before the read, as the walk's (sync._advance)
    raw = visible(caller, "topapi/v2/department/get",
                  lambda: client.contacts.department_get(dept_id).raw)
    changes = [("dept", "fetched" if raw else "remove", [str(dept_id)],
                dept_from_v2(raw) if raw else None, stamp)]
    with transaction.atomic():
        locked = _write_lock(tenant)
        if locked is None:
            return raw is not None
        generation, now = locked
        moved = sum(_apply_one(tenant, *change, now) for change in changes)
        if moved:
            transaction.on_commit(lambda: directory_changed.send(
                sender=Tenant, tenant=tenant, reason="rows", generation=generation))
    return raw is not None
