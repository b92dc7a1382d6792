"""Pages of the directory mirror the API serves: users of the tenant, of a department or of its
subtree, keyset-paged by userid (directory.selectors answers the single-department form)."""

from __future__ import annotations

from directory import selectors
from directory.models import Membership, User
from tenants.models import Tenant


def mirror_users_page(*, tenant: Tenant, dept_id: int | None = None,
                      include_subtree: bool = False, after_userid: str | None = None,
                      limit: int = 100) -> list[User]:
    """Up to `limit` live users after `after_userid`, ordered by userid, with `.memberships`."""
    if dept_id is None or not include_subtree:
        return selectors.users(tenant=tenant, dept_id=dept_id, after_userid=after_userid,
                               limit=limit)
    dept_ids = selectors.subtree_dept_ids(tenant=tenant, dept_ids=[dept_id])
    members = Membership.objects.filter(tenant=tenant, dept_id__in=dept_ids).values("userid")
    rows = User.objects.filter(tenant=tenant, deleted_at__isnull=True, userid__in=members)
    if after_userid is not None:
        rows = rows.filter(userid__gt=after_userid)
    page = list(rows.order_by("userid")[:max(0, limit)])
    # Each user's memberships as directory.selectors.users gives them (one query for the page).
    by_user: dict[str, list[Membership]] = {u.userid: [] for u in page}
    for membership in Membership.objects.filter(
            tenant=tenant, userid__in=list(by_user)).order_by("userid", "dept_id"):
        by_user[membership.userid].append(membership)
    for row in page:
        row.memberships = by_user[row.userid]
    return page
