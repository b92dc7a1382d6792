"""Departments, v1 (GET department/*)."""

from __future__ import annotations

from dingtalk.api._base import Resource
from dingtalk.api.models import Department


class Departments(Resource):
    """`client.departments`: the v1 department endpoints (root department id is 1)."""

    def list_ids(self, dept_id: int = 1) -> list[int]:
        """Ids of the direct sub-departments (not limited by auth scope).

        Doc: obtain-a-department-list (department/list_ids).
        """
        body = self._get("department/list_ids", id=dept_id)
        return [int(i) for i in body.get("sub_dept_id_list", ())]

    def list(self, dept_id: int = 1, *, fetch_child: bool = False,
             lang: str | None = None) -> list[Department]:
        """Sub-departments of a department (ISV apps must not fetch children).

        Doc: obtain-the-department-list (department/list).
        """
        body = self._get("department/list", id=dept_id, fetch_child=fetch_child,
                         lang=lang)
        return [Department.from_v1(d) for d in body.get("department", ())]

    def get(self, dept_id: int, *, lang: str | None = None) -> Department:
        """One department's details.

        Doc: query-department-details (department/get).
        """
        return Department.from_v1(self._get("department/get", id=dept_id, lang=lang))

    def list_parent_depts_by_dept(self, dept_id: int) -> list[int]:
        """The path from a department up to the root: itself first, 1 last.

        Doc: query-the-list-of-all-parent-departments-of-a-department.
        """
        body = self._get("department/list_parent_depts_by_dept", id=dept_id)
        return [int(i) for i in body.get("parentIds", ())]

    def list_parent_depts_of_user(self, userid: str) -> list[list[int]]:
        """One path to the root per department the user belongs to.

        Doc: queries-the-list-of-all-parent-departments-of-a-user (department/list_parent_depts).
        """
        body = self._get("department/list_parent_depts", userId=userid)
        paths = body.get("department", ())
        # PROTOCOL 4.1: documented as nested paths, the doc example shows one flat path.
        if paths and not isinstance(paths[0], list):
            paths = [paths]
        return [[int(i) for i in path] for path in paths]
