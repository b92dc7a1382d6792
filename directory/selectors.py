"""Reads of the directory mirror for the other apps (messaging's audiences, the API's endpoints).

Every selector takes the tenant first and answers live rows only (soft-deleted rows are gone to
readers). `dept_member_userids` answers None when the mirror is not fresh, so the caller falls
back to live DingTalk calls rather than trusting a stale copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet

from core import clock
from directory.models import Department, DirectorySync, Membership, User
from tenants.models import Tenant


@dataclass(frozen=True)
class MirrorState:
    """What the mirror of one tenant holds and whether readers may trust it."""

    generation: int
    synced_at: datetime | None
    fresh: bool
    department_count: int
    user_count: int
    etag: str
    status: str = DirectorySync.Status.IDLE


def _fresh(sync: DirectorySync) -> bool:
    """A full sync succeeded, none failed since, and the last success is recent enough."""
    if sync.last_success_at is None:
        return False
    if sync.last_failure_at is not None and sync.last_failure_at > sync.last_success_at:
        return False
    max_age = timedelta(seconds=settings.DIRECTORY_FRESH_MAX_AGE)
    return clock.now() - sync.last_success_at <= max_age


def mirror_state(*, tenant: Tenant) -> MirrorState | None:
    """The tenant's mirror (None when no sync was ever asked for)."""
    sync = DirectorySync.objects.filter(tenant=tenant).first()
    if sync is None:
        return None
    depts = Department.objects.filter(tenant=tenant)
    users = User.objects.filter(tenant=tenant)
    dept_count = depts.filter(deleted_at__isnull=True).count()
    user_count = users.filter(deleted_at__isnull=True).count()
    # Every write (upsert, soft delete, membership change) moves updated_at, so the newest
    # stamp plus the counts changes whenever anything readers see changes.
    stamps = [depts.aggregate(m=Max("updated_at"))["m"], users.aggregate(m=Max("updated_at"))["m"]]
    newest = max((s for s in stamps if s is not None), default=None)
    newest_us = int(newest.timestamp() * 1_000_000) if newest else 0
    etag = f"{sync.generation}-{newest_us}-{dept_count}-{user_count}"
    return MirrorState(generation=sync.generation, synced_at=sync.last_success_at,
                       fresh=_fresh(sync), department_count=dept_count,
                       user_count=user_count, etag=etag, status=sync.status)


def departments(*, tenant: Tenant, parent_id: int | None = None) -> QuerySet[Department]:
    """Live departments (children of parent_id when given), ordered by order, then id."""
    rows = Department.objects.filter(tenant=tenant, deleted_at__isnull=True)
    if parent_id is not None:
        rows = rows.filter(parent_id=parent_id)
    return rows.order_by("order", "dept_id")


def department(*, tenant: Tenant, dept_id: int) -> Department | None:
    """One live department, or None."""
    return Department.objects.filter(tenant=tenant, dept_id=dept_id,
                                     deleted_at__isnull=True).first()


def _attach_memberships(tenant: Tenant, users: list[User]) -> list[User]:
    # Membership has no FK to User (a dangling department is allowed), so the prefetch is by
    # hand: each user gets `.memberships`, a list ordered by dept_id.
    by_user: dict[str, list[Membership]] = {u.userid: [] for u in users}
    if by_user:
        for m in Membership.objects.filter(tenant=tenant, userid__in=list(by_user)).order_by(
                "userid", "dept_id"):
            by_user[m.userid].append(m)
    for u in users:
        u.memberships = by_user[u.userid]
    return users


def users(*, tenant: Tenant, dept_id: int | None = None, after_userid: str | None = None,
          limit: int = 100) -> list[User]:
    """A page of live users ordered by userid (direct members of dept_id when given), each with
    `.memberships` (list of Membership, by dept_id); keyset-paged by after_userid."""
    rows = User.objects.filter(tenant=tenant, deleted_at__isnull=True)
    if dept_id is not None:
        members = Membership.objects.filter(tenant=tenant, dept_id=dept_id).values("userid")
        rows = rows.filter(userid__in=members)
    if after_userid is not None:
        rows = rows.filter(userid__gt=after_userid)
    return _attach_memberships(tenant, list(rows.order_by("userid")[:max(0, limit)]))


def user(*, tenant: Tenant, userid: str) -> User | None:
    """One live user with `.memberships`, or None."""
    row = User.objects.filter(tenant=tenant, userid=userid, deleted_at__isnull=True).first()
    return None if row is None else _attach_memberships(tenant, [row])[0]


def subtree_dept_ids(*, tenant: Tenant, dept_ids: Iterable[int]) -> set[int]:
    """The given departments and every live descendant the mirror holds."""
    children: dict[int, list[int]] = {}
    for dept, parent in Department.objects.filter(
            tenant=tenant, deleted_at__isnull=True).values_list("dept_id", "parent_id"):
        if parent is not None:
            children.setdefault(parent, []).append(dept)
    found, stack = set(), list(dept_ids)
    while stack:
        dept = stack.pop()
        if dept in found:
            continue
        found.add(dept)
        stack.extend(children.get(dept, ()))
    return found


def dept_member_userids(*, tenant: Tenant, dept_ids: Iterable[int],
                        include_subtree: bool = True) -> set[str] | None:
    """Userids of live members of the departments (and their subtrees); None when the mirror is
    not fresh (the caller falls back to live calls)."""
    state = DirectorySync.objects.filter(tenant=tenant).first()
    if state is None or not _fresh(state):
        return None
    wanted = set(dept_ids)
    if include_subtree:
        wanted = subtree_dept_ids(tenant=tenant, dept_ids=wanted)
    if not wanted:
        return set()
    live = User.objects.filter(tenant=tenant, deleted_at__isnull=True).values("userid")
    return set(Membership.objects.filter(tenant=tenant, dept_id__in=wanted,
                                         userid__in=live).values_list("userid", flat=True))


def sync_row(*, tenant: Tenant) -> DirectorySync | None:
    """The tenant's DirectorySync row, if any."""
    return DirectorySync.objects.filter(tenant=tenant).first()

