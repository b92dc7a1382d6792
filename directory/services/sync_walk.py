"""The network half of a full sync (PROTOCOL-ISV 4.2), one step at a time and no transaction:
what the tenant's scope is, one department (its details, its next level, its direct members),
and individually authorized users. sync.py records each step's result with a checkpoint.

Scope discovery uses only scope-limited calls: auth/scopes, then v2 department/listsub from each
authorized department; never listsubid or user/listid, which are not scope-limited and would
reveal ids outside it. Each department is read with v2 department/get because listsub carries
no order or managers, and the pushed rows do: the full and incremental paths must agree.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from dingtalk.client import DingTalkClient
from directory.services.calls import PacedCaller, visible
from directory.services.convert import (
    DeptFields,
    Unmirrorable,
    UserFields,
    dept_from_v2,
    user_from_v2_get,
    user_from_v2_list,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100


@dataclass(frozen=True)
class Scope:
    """What auth/scopes said: the departments whose subtrees and the users the app may read."""

    dept_ids: list[int]
    userids: list[str]

    @property
    def digest(self) -> str:
        return scope_digest(self.dept_ids, self.userids)


def scope_digest(dept_ids, userids) -> str:
    """A stable fingerprint of a scope (order and duplicates do not matter)."""
    text = json.dumps([sorted({int(d) for d in dept_ids}), sorted({str(u) for u in userids})])
    return hashlib.sha256(text.encode()).hexdigest()


def scopes_read(client: DingTalkClient, caller: PacedCaller) -> Scope:
    """auth/scopes (PROTOCOL 4.5): the starting points of the walk."""
    scopes = caller("auth/scopes", client.auth.scopes)
    depts = list(dict.fromkeys(scopes.authed_dept_ids))
    return Scope(dept_ids=depts, userids=list(dict.fromkeys(scopes.authed_userids)))


@dataclass
class DeptRead:
    """One department as the walk read it; `dept` None means gone or outside the scope."""

    dept: DeptFields | None
    children: list[int] = field(default_factory=list)
    users: list[UserFields] = field(default_factory=list)


def dept_read(client: DingTalkClient, caller: PacedCaller, dept_id: int) -> DeptRead:
    """v2 department/get, listsub (next level) and every v2 user/list page of its members."""
    contacts = client.contacts
    raw = visible(caller, "topapi/v2/department/get",
                  lambda: contacts.department_get(dept_id).raw)
    if raw is None:
        return DeptRead(dept=None)
    children = visible(caller, "topapi/v2/department/listsub",
                       lambda: contacts.department_list_sub(dept_id))
    if children is None:
        return DeptRead(dept=None)
    users: list[UserFields] = []
    cursor = 0
    while True:
        page = visible(caller, "topapi/v2/user/list",
                       lambda c=cursor: contacts.user_list_page(dept_id, cursor=c,
                                                                size=PAGE_SIZE))
        if page is None:
            return DeptRead(dept=None)
        users.extend(_users(lambda raw: user_from_v2_list(raw, dept_id=dept_id),
                            [u.raw for u in page.users]))
        # A cursor that does not move would loop for ever: take it as the end.
        if not page.has_more or page.next_cursor is None or page.next_cursor <= cursor:
            break
        cursor = page.next_cursor
    try:
        dept = dept_from_v2(raw)
    except Unmirrorable as error:
        logger.warning("directory walk: department %s skipped (%s)", dept_id, error)
        return DeptRead(dept=None)
    return DeptRead(dept=dept, children=[c.id for c in children], users=users)


def _users(convert, raws: list) -> list[UserFields]:
    """The users an answer lists, less any whose userid the mirror cannot store (logged)."""
    out = []
    for raw in raws:
        try:
            out.append(convert(raw))
        except Unmirrorable as error:
            logger.warning("directory walk: a user skipped (%s)", error)
    return out


def users_read(client: DingTalkClient, caller: PacedCaller,
               userids: list[str]) -> tuple[list[UserFields], list[str]]:
    """v2 user/get for individually authorized users: (found, not visible)."""
    found, missing = [], []
    for userid in userids:
        raw = visible(caller, "topapi/v2/user/get",
                      lambda u=userid: client.contacts.user_get(u).raw)
        if raw is None:
            missing.append(userid)
        else:
            found.extend(_users(user_from_v2_get, [raw]))
    return found, missing
