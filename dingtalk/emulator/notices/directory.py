"""What the notice engine needs to know about a corp's people: a narrow protocol and a toy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


class Directory(Protocol):
    """Recipient resolution; the emulator's state implements it through an adapter."""

    def user_status(self, corp_id: str, userid: str) -> str | None:
        """'active', 'inactive', or None when the user does not exist in the corp."""

    def has_dept(self, corp_id: str, dept_id: int) -> bool: ...

    def dept_userids(self, corp_id: str, dept_id: int) -> Iterable[str]:
        """Users of the department and all its sub-departments, in a stable order."""

    def all_userids(self, corp_id: str) -> Iterable[str]: ...


@dataclass
class DictDirectory:
    """An in-memory Directory for unit tests: users {corp: {userid: active}}, depts tree."""

    users: dict[str, dict[str, bool]] = field(default_factory=dict)
    # {corp: {dept_id: (parent_id, [userids])}}
    depts: dict[str, dict[int, tuple[int | None, list[str]]]] = field(default_factory=dict)

    def user_status(self, corp_id: str, userid: str) -> str | None:
        active = self.users.get(corp_id, {}).get(userid)
        if active is None:
            return None
        return "active" if active else "inactive"

    def has_dept(self, corp_id: str, dept_id: int) -> bool:
        return dept_id in self.depts.get(corp_id, {})

    def dept_userids(self, corp_id: str, dept_id: int) -> list[str]:
        tree = self.depts.get(corp_id, {})
        found: list[str] = []
        pending = [dept_id]
        while pending:
            current = pending.pop(0)
            found.extend(tree.get(current, (None, []))[1])
            pending.extend(sorted(d for d, (parent, _) in tree.items() if parent == current))
        return found

    def all_userids(self, corp_id: str) -> list[str]:
        return list(self.users.get(corp_id, {}))
