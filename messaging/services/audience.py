"""A notification's audience as userids: departments expanded live through the tenant's client.

Each department is read with v2 department/listsub (its sub-departments, followed recursively)
and v2 user/list (its direct members, page by page), so a department means everyone in its
subtree, as DingTalk's own dept_id_list does (PROTOCOL 3.1). to_all_user starts at the root
department 1. For a suite these reads are limited to the corp's authorized scope (PROTOCOL 4).

A department the app cannot read (out of scope 50004, gone 60003, no permission 60011, ...) is
recorded with its errcode: nobody in it can get an outcome, and the operator must see why.
Failures a retry can fix (transport, throttling, DingTalk busy) are raised: the whole
expansion is repeated later, since nothing is written until it is complete.

When the tenant's directory mirror is fresh and holds every department asked for, the
departments are expanded from it instead (no DingTalk call, no quota spent); a stale or absent
mirror, or a department it does not hold (whose errcode only DingTalk can give), means the live
walk above.

Each call of the live walk is paced per (app, API path) in the same window as the directory
sync's (directory.pacing, the same app key and path strings): a sync of the same app may be
walking those APIs at that very moment, and together the two must stay under DingTalk's 20 QPS
(90018).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from dingtalk.errors import ApiError
from dingtalk.repeat import retryable_error
from directory import selectors as directory_selectors
from directory.models import User as DirectoryUser
from directory.pacing import pace
from directory.services.calls import app_key
from tenants.models import Tenant
from tenants.services.clients import client_for

ROOT_DEPT_ID = 1
_LISTSUB = "topapi/v2/department/listsub"
_USER_LIST = "topapi/v2/user/list"


@dataclass
class Audience:
    """Userids in order (named ones first, each once), who of them DingTalk says is inactive,
    and the departments that could not be read."""

    userids: list[str] = field(default_factory=list)
    inactive: set[str] = field(default_factory=set)
    dept_errors: list[dict] = field(default_factory=list)


def audience_expand(*, tenant: Tenant, userids: Iterable[str], dept_ids: Iterable[int],
                    to_all_user: bool) -> Audience:
    """Expand named users, departments (with all their sub-departments) and to_all_user."""
    found: dict[str, bool | None] = dict.fromkeys(userids)
    audience = Audience()
    roots = [ROOT_DEPT_ID] if to_all_user else list(dept_ids)
    if roots and not _expand_from_mirror(tenant, roots, found):
        _expand_live(tenant, roots, found, audience)
    audience.userids = list(found)
    audience.inactive = {userid for userid, active in found.items() if active is False}
    return audience


def _expand_from_mirror(tenant: Tenant, roots: list[int], found: dict) -> bool:
    """Add the departments' members from the mirror; False when it cannot answer for them."""
    if any(directory_selectors.department(tenant=tenant, dept_id=d) is None
           for d in set(roots)):
        return False
    members = directory_selectors.dept_member_userids(tenant=tenant, dept_ids=roots,
                                                      include_subtree=True)
    if members is None:
        return False
    active = dict(DirectoryUser.objects.filter(tenant=tenant, userid__in=members,
                                               deleted_at__isnull=True)
                  .values_list("userid", "active"))
    for userid in sorted(members):
        if found.get(userid) is None:
            found[userid] = active.get(userid)
    return True


def _expand_live(tenant: Tenant, roots: list[int], found: dict, audience: Audience) -> None:
    """Walk the departments through DingTalk (listsub + user/list pages)."""
    contacts = client_for(tenant).contacts
    app = app_key(tenant)
    seen: set[int] = set()
    queue = deque(roots)
    while queue:
        dept_id = queue.popleft()
        if dept_id in seen:
            continue
        seen.add(dept_id)
        try:
            pace(app, _LISTSUB)
            children = contacts.department_list_sub(dept_id)
            members = _members(contacts, app, dept_id)
        except ApiError as exc:
            if retryable_error(exc):
                raise
            audience.dept_errors.append(
                {"dept_id": dept_id, "errcode": exc.errcode, "errmsg": exc.errmsg})
            continue
        queue.extend(child.id for child in children)
        for user in members:
            if found.get(user.userid) is None:
                found[user.userid] = user.active


def _members(contacts, app: str, dept_id: int) -> list:
    """Every user/list page of the department's direct members, each call paced."""
    members, cursor = [], 0
    while True:
        pace(app, _USER_LIST)
        page = contacts.user_list_page(dept_id, cursor=cursor)
        members.extend(page.users)
        # A cursor that does not move would loop forever: the end, as user_list takes it.
        if not page.has_more or page.next_cursor is None or page.next_cursor == cursor:
            return members
        cursor = page.next_cursor
