"""Turning userid_list / dept_id_list / to_all_user into recipients (PROTOCOL 3.1, 3.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .directory import Directory


@dataclass
class Recipients:
    """`order`: every existing recipient once; `active` of them get quota checks, the rest fail."""

    order: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)
    invalid_users: list[str] = field(default_factory=list)
    invalid_depts: list[int] = field(default_factory=list)


def resolve(directory: Directory, corp_id: str, users: list[str], depts: list[int],
            to_all: bool) -> Recipients:
    """Named users first, then department members (sub-departments included), de-duplicated."""
    found = Recipients()
    seen: set[str] = set()

    def add(userid: str) -> None:
        if userid in seen:
            return
        seen.add(userid)
        status = directory.user_status(corp_id, userid)
        if status is None:
            found.invalid_users.append(userid)
            return
        found.order.append(userid)
        (found.active if status == "active" else found.inactive).append(userid)

    for userid in users:
        add(userid)
    for dept_id in dict.fromkeys(depts):
        if not directory.has_dept(corp_id, dept_id):
            found.invalid_depts.append(dept_id)
            continue
        for userid in directory.dept_userids(corp_id, dept_id):
            add(userid)
    if to_all:
        for userid in directory.all_userids(corp_id):
            add(userid)
    return found
