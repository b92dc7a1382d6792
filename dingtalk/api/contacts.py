"""Contacts, v2 (POST topapi/v2/department/*, topapi/v2/user/*, topapi/user/*)."""

from __future__ import annotations

from collections.abc import Iterator

from dingtalk.api._base import Resource, required, result
from dingtalk.api.models import Department, UnionIdLookup, User, UserPage

# PROTOCOL 4.4: v2 user list pages are at most 100 users.
MAX_PAGE_SIZE = 100


class Contacts(Resource):
    """`client.contacts`: the v2 (topapi) contact endpoints; all are reads."""

    def department_list_sub(self, dept_id: int = 1, *,
                            language: str | None = None) -> list[Department]:
        """The next level of sub-departments, with names.

        Doc: obtain-the-department-list-v2 (topapi/v2/department/listsub).
        """
        body = self._post("topapi/v2/department/listsub",
                          {"dept_id": dept_id, "language": language})
        return [Department.from_v2(d) for d in result(body) or ()]

    def department_list_sub_ids(self, dept_id: int = 1) -> list[int]:
        """Ids of the next level of sub-departments (not scope-limited).

        Doc: obtain-a-sub-department-id-list-v2 (topapi/v2/department/listsubid).
        """
        body = self._post("topapi/v2/department/listsubid", {"dept_id": dept_id})
        return [int(i) for i in result(body).get("dept_id_list", ())]

    def department_get(self, dept_id: int, *, language: str | None = None) -> Department:
        """One department's details.

        Doc: query-department-details0-v2 (topapi/v2/department/get).
        """
        body = self._post("topapi/v2/department/get",
                          {"dept_id": dept_id, "language": language})
        return Department.from_v2(result(body))

    def department_parents_by_dept(self, dept_id: int) -> list[int]:
        """The path from a department to the root: itself first.

        Doc: query-the-list-of-all-parent-departments-of-a-department-v2
        (topapi/v2/department/listparentbydept).
        """
        body = self._post("topapi/v2/department/listparentbydept", {"dept_id": dept_id})
        return [int(i) for i in result(body).get("parent_id_list", ())]

    def department_parents_by_user(self, userid: str) -> list[list[int]]:
        """One path to the root per department of the user.

        Doc: queries-the-list-of-all-parent-departments-of-a-user-v2
        (topapi/v2/department/listparentbyuser).
        """
        body = self._post("topapi/v2/department/listparentbyuser", {"userid": userid})
        return [[int(i) for i in p.get("parent_dept_id_list", ())]
                for p in result(body).get("parent_list", ())]

    def user_get(self, userid: str, *, language: str | None = None) -> User:
        """One user's details.

        Doc: query-user-details (topapi/v2/user/get).
        """
        body = self._post("topapi/v2/user/get", {"userid": userid, "language": language})
        return User.from_v2(result(body))

    def user_list_page(self, dept_id: int, *, cursor: int = 0, size: int = MAX_PAGE_SIZE,
                       order_field: str | None = None,
                       contain_access_limit: bool | None = None,
                       language: str | None = None) -> UserPage:
        """One cursor page of a department's direct members.

        Doc: queries-the-complete-information-of-a-department-user (topapi/v2/user/list).
        """
        body = self._post("topapi/v2/user/list", {
            "dept_id": dept_id, "cursor": cursor, "size": size, "order_field": order_field,
            "contain_access_limit": contain_access_limit, "language": language})
        page = result(body)
        next_cursor = page.get("next_cursor")
        return UserPage(users=tuple(User.from_v2(u) for u in page.get("list", ())),
                        has_more=bool(page.get("has_more")),
                        next_cursor=None if next_cursor is None else int(next_cursor))

    def user_list(self, dept_id: int, *, size: int = MAX_PAGE_SIZE,
                  order_field: str | None = None, contain_access_limit: bool | None = None,
                  language: str | None = None) -> Iterator[User]:
        """Every direct member of a department, following next_cursor (topapi/v2/user/list)."""
        cursor = 0
        while True:
            page = self.user_list_page(dept_id, cursor=cursor, size=size,
                                       order_field=order_field,
                                       contain_access_limit=contain_access_limit,
                                       language=language)
            yield from page.users
            # A cursor that does not move would loop forever; treat it as the end.
            if not page.has_more or page.next_cursor is None or page.next_cursor == cursor:
                return
            cursor = page.next_cursor

    def user_list_ids(self, dept_id: int) -> list[str]:
        """Userids of a department's direct members (not scope-limited).

        Doc: query-the-list-of-department-userids (topapi/user/listid).
        """
        body = self._post("topapi/user/listid", {"dept_id": dept_id})
        return [str(u) for u in result(body).get("userid_list", ())]

    def user_count(self, *, only_active: bool = False) -> int:
        """Number of users in the corp.

        Doc: obtain-the-number-of-employees-v2 (topapi/user/count).
        """
        body = self._post("topapi/user/count", {"only_active": only_active})
        return int(required(result(body), "count", "topapi/user/count"))

    def user_by_unionid(self, unionid: str) -> UnionIdLookup:
        """The userid behind a unionid.

        Doc: query-a-user-by-the-union-id (topapi/user/getbyunionid).
        """
        body = self._post("topapi/user/getbyunionid", {"unionid": unionid})
        r = result(body)
        contact_type = r.get("contact_type")
        return UnionIdLookup(userid=str(required(r, "userid", "topapi/user/getbyunionid")),
                             contact_type=None if contact_type is None else int(contact_type))
