"""Writes to the mirror's rows, shared by the full sync and the pushed rows: batch upserts that
never let an older state overwrite a newer one, membership merges, and soft deletion.

Each upsert is one PostgreSQL `INSERT ... ON CONFLICT DO UPDATE`: a row's data is replaced only
when the incoming state is at least as new as what it holds (`modified_ms`), its `generation`
only ever grows (a sync saw it), and `updated_at` moves only when something a reader sees
changed, which is what the ETag and the drift count read. On SQLite (the one-process demo of
the quick start) the same rules run row by row through the ORM (`_upsert_portable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from psycopg.types.json import Jsonb

from directory.models import Department, Membership, User
from directory.services.convert import ABSENT, DeptFields, UserFields
from tenants.models import Tenant


@dataclass
class Written:
    """What one upsert did: keys inserted, keys whose visible data changed, keys applied."""

    inserted: set
    changed: set
    applied: set


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert(model, *, tenant: Tenant, key: str, columns: list[str], rows: list[list],
            generation: int, modified_ms: int, now: datetime, synced: bool,
            merge: dict[str, str]) -> Written:
    """The shared statement: `columns` are the data columns, `merge` overrides how a column
    takes the incoming value (e.g. COALESCE for fields an answer may leave out)."""
    if connection.vendor != "postgresql":
        return _upsert_portable(model, tenant=tenant, key=key, columns=columns, rows=rows,
                                generation=generation, modified_ms=modified_ms, now=now,
                                synced=synced, merge=merge)
    table = _q(model._meta.db_table)
    cols = ["tenant_id", key, *columns, "generation", "deleted_at", "modified_ms",
            "synced_at", "updated_at"]
    params: list = []
    groups = []
    for row in rows:
        params.extend([tenant.pk, *row, generation, None, modified_ms, now if synced else None,
                       now])
        groups.append("(" + ", ".join(["%s"] * len(cols)) + ")")
    newer = f"EXCLUDED.modified_ms >= {table}.modified_ms"
    taken = {c: merge.get(c, f"EXCLUDED.{_q(c)}") for c in columns}
    differs = " OR ".join(f"({taken[c]}) IS DISTINCT FROM {table}.{_q(c)}" for c in columns)
    sets = [f"{_q(c)} = CASE WHEN {newer} THEN {taken[c]} ELSE {table}.{_q(c)} END"
            for c in columns]
    sets += [
        f"generation = GREATEST({table}.generation, EXCLUDED.generation)",
        f"deleted_at = CASE WHEN {newer} THEN NULL ELSE {table}.deleted_at END",
        f"modified_ms = GREATEST({table}.modified_ms, EXCLUDED.modified_ms)",
        f"synced_at = COALESCE(EXCLUDED.synced_at, {table}.synced_at)",
        f"updated_at = CASE WHEN {newer} AND ({differs} OR {table}.deleted_at IS NOT NULL) "
        f"THEN EXCLUDED.updated_at ELSE {table}.updated_at END",
    ]
    sql = (f"INSERT INTO {table} ({', '.join(_q(c) for c in cols)}) "  # noqa: S608
           f"VALUES {', '.join(groups)} ON CONFLICT (tenant_id, {_q(key)}) DO UPDATE SET "
           f"{', '.join(sets)} RETURNING {_q(key)}, (xmax = 0), updated_at = %s, "
           f"modified_ms = %s")
    written = Written(set(), set(), set())
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, modified_ms])
        for value, inserted, touched, applied in cursor.fetchall():
            if inserted:
                written.inserted.add(value)
            elif touched:
                written.changed.add(value)
            if applied:
                written.applied.add(value)
    return written


def _upsert_portable(model, *, tenant: Tenant, key: str, columns: list[str], rows: list[list],
                     generation: int, modified_ms: int, now: datetime, synced: bool,
                     merge: dict[str, str]) -> Written:
    """_upsert's rules through the ORM, row by row, for databases without ON CONFLICT ...
    RETURNING xmax (SQLite: one writer at a time, so read-then-write is safe there). A column in
    `merge` keeps the stored value when the incoming one is None (the COALESCEs above)."""
    written = Written(set(), set(), set())
    with transaction.atomic():
        stored = {getattr(row, key): row for row in model.objects.filter(
            tenant=tenant, **{f"{key}__in": [r[0] for r in rows]})}
        for values in rows:
            ident, data = values[0], dict(zip(columns, values[1:], strict=True))
            data = {c: _json_value(v) for c, v in data.items()}
            row = stored.get(ident)
            if row is None:
                model.objects.create(tenant=tenant, **{key: ident}, **data,
                                     generation=generation, modified_ms=modified_ms,
                                     synced_at=now if synced else None, updated_at=now)
                written.inserted.add(ident)
                written.applied.add(ident)
                continue
            newer = modified_ms >= row.modified_ms
            if newer:
                for column in merge:
                    if data.get(column) is None:
                        data[column] = getattr(row, column)
                differs = any(getattr(row, c) != data[c] for c in columns)
                if differs or row.deleted_at is not None:
                    row.updated_at = now
                    written.changed.add(ident)
                for column, value in data.items():
                    setattr(row, column, value)
                row.deleted_at = None
                written.applied.add(ident)
            row.generation = max(row.generation, generation)
            row.modified_ms = max(row.modified_ms, modified_ms)
            if synced:
                row.synced_at = now
            row.save()
    return written


def _json_value(value):
    """The plain value of a PostgreSQL Jsonb wrapper (the JSONField serialises it itself)."""
    return value.obj if isinstance(value, Jsonb) else value


def depts_upsert(*, tenant: Tenant, depts: Iterable[DeptFields], generation: int = 0,
                 modified_ms: int, now: datetime, synced: bool = False) -> Written:
    """Insert or update departments (a parent left out or None keeps the stored one: only the
    root has none, and ISV v1 rows never carry it)."""
    unique = {d.dept_id: d for d in depts}
    rows = [[d.name, None if d.parent_id is ABSENT else d.parent_id, d.order,
             Jsonb(d.manager_userids)] for d in unique.values()]
    if not rows:
        return Written(set(), set(), set())
    table = _q(Department._meta.db_table)
    return _upsert(Department, tenant=tenant, key="dept_id",
                   columns=["name", "parent_id", "order", "manager_userids"],
                   rows=[[d_id, *row] for d_id, row in zip(unique, rows, strict=True)],
                   generation=generation, modified_ms=modified_ms, now=now, synced=synced,
                   merge={"parent_id": f"COALESCE(EXCLUDED.parent_id, {table}.parent_id)"})


def users_upsert(*, tenant: Tenant, users: Iterable[UserFields], generation: int = 0,
                 modified_ms: int, now: datetime, synced: bool = False) -> Written:
    """Insert or update users and merge their memberships (for the users whose state applied)."""
    unique: dict[str, UserFields] = {}
    for u in users:
        if u.userid in unique:  # the same user on two pages of one batch: one row, both depts
            merged = dict(unique[u.userid].memberships)
            for dept_id, value in u.memberships.items():
                if value != (None, None) or dept_id not in merged:
                    merged[dept_id] = value
            u.memberships = merged
        unique[u.userid] = u
    if not unique:
        return Written(set(), set(), set())
    table = _q(User._meta.db_table)
    rows = [[u.userid, u.unionid, u.name, u.title, u.avatar, u.active, u.is_admin, u.is_boss,
             u.is_senior] for u in unique.values()]
    written = _upsert(
        User, tenant=tenant, key="userid",
        columns=["unionid", "name", "title", "avatar", "active", "is_admin", "is_boss",
                 "is_senior"],
        rows=rows, generation=generation, modified_ms=modified_ms, now=now, synced=synced,
        merge={"is_senior": f"COALESCE(EXCLUDED.is_senior, {table}.is_senior)"})
    moved = memberships_merge(tenant=tenant, users=[unique[u] for u in written.applied])
    moved -= written.inserted | written.changed
    if moved:
        User.objects.filter(tenant=tenant, userid__in=moved).update(updated_at=now)
        written.changed |= moved
    return written


def memberships_merge(*, tenant: Tenant, users: list[UserFields]) -> set[str]:
    """Make each user's memberships those given; a department given as (None, None) keeps the
    values stored for it (a walk reads a user's order and leader flag only on the page of the
    department it walks). Returns the userids whose memberships changed."""
    if not users:
        return set()
    stored: dict[tuple[str, int], Membership] = {
        (m.userid, m.dept_id): m for m in
        Membership.objects.filter(tenant=tenant, userid__in=[u.userid for u in users])}
    wanted: dict[tuple[str, int], tuple[int | None, bool]] = {}
    for u in users:
        for dept_id, (order, leader) in u.memberships.items():
            old = stored.get((u.userid, dept_id))
            if order is None and leader is None and old is not None:
                order, leader = old.order, old.is_leader
            wanted[(u.userid, dept_id)] = (order, bool(leader))
    gone = [m.pk for k, m in stored.items() if k not in wanted]
    fresh = [Membership(tenant=tenant, userid=k[0], dept_id=k[1], order=v[0], is_leader=v[1])
             for k, v in wanted.items()
             if k not in stored or (stored[k].order, stored[k].is_leader) != v]
    if gone:
        Membership.objects.filter(pk__in=gone).delete()
    if fresh:
        Membership.objects.bulk_create(
            fresh, update_conflicts=True, unique_fields=["tenant", "userid", "dept_id"],
            update_fields=["order", "is_leader"])
    return {stored[k].userid for k in stored if k not in wanted} | {m.userid for m in fresh}


def soft_delete(model, *, tenant: Tenant, keys: Iterable, modified_ms: int,
                now: datetime) -> int:
    """Mark rows deleted by a newer state (a leave or remove row, a fetch that found nothing)."""
    key = "userid" if model is User else "dept_id"
    keys = list(keys)
    count = model.objects.filter(tenant=tenant, **{f"{key}__in": keys},
                                 modified_ms__lte=modified_ms, deleted_at__isnull=True).update(
        deleted_at=now, updated_at=now, modified_ms=modified_ms)
    # Older states must not revive it either, even when it was already deleted.
    model.objects.filter(tenant=tenant, **{f"{key}__in": keys},
                         modified_ms__lt=modified_ms).update(modified_ms=modified_ms)
    if model is User:
        Membership.objects.filter(tenant=tenant, userid__in=keys).exclude(
            userid__in=User.objects.filter(tenant=tenant, deleted_at__isnull=True)
            .values("userid")).delete()
    return count


def unseen_delete(*, tenant: Tenant, generation: int, before_ms: int, now: datetime) -> dict:
    """A finished sync's sweep: rows its generation did not see, and that nothing newer than
    the sync's start touched, are deleted (soft). One statement per table."""
    counts = {}
    for model, label in ((Department, "departments"), (User, "users")):
        counts[label] = model.objects.filter(
            tenant=tenant, deleted_at__isnull=True, generation__lt=generation,
            modified_ms__lt=before_ms).update(deleted_at=now, updated_at=now)
    Membership.objects.filter(tenant=tenant).exclude(
        userid__in=User.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .values("userid")).delete()
    return counts


def memberships_outside_reset(*, tenant: Tenant, now: datetime) -> set[str]:
    """Order and leader flag are kept only for departments the mirror holds: a finished sync
    clears them in the others (a department that left the scope), so the mirror keeps nothing
    its scope no longer shows. Returns the userids whose memberships changed."""
    live = Department.objects.filter(tenant=tenant, deleted_at__isnull=True).values("dept_id")
    stale = Membership.objects.filter(tenant=tenant).exclude(dept_id__in=live).filter(
        Q(order__isnull=False) | Q(is_leader=True))
    userids = set(stale.values_list("userid", flat=True))
    if userids:
        stale.update(order=None, is_leader=False)
        User.objects.filter(tenant=tenant, userid__in=userids).update(updated_at=now)
    return userids
