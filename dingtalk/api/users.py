"""Users, v1 (GET user/*)."""

from __future__ import annotations

from collections.abc import Iterator

from dingtalk.api._base import Resource, required, result
from dingtalk.api.models import SsoUser, UnionIdLookup, User, UserPage

# PROTOCOL 4.3: listbypage pages are at most 100 users.
MAX_PAGE_SIZE = 100


class Users(Resource):
    """`client.users`: the v1 user endpoints."""

    def org_user_count(self, *, only_active: bool = False) -> int:
        """Number of users in the corp (only_active: only those who activated DingTalk).

        Doc: obtain-the-number-of-employees-1 (user/get_org_user_count).
        """
        body = self._get("user/get_org_user_count", onlyActive=1 if only_active else 0)
        return int(required(body, "count", "user/get_org_user_count"))

    def getuserinfo(self, code: str, *, legacy: bool = False) -> SsoUser:
        """The user an SSO auth code (dd.requestAuthCode) belongs to; the code is single use.

        PROTOCOL-ISV 1.2: POST topapi/v2/user/getuserinfo; legacy=True calls the GET
        user/getuserinfo the docs moved to "history" in 2021 (no unionid in its answer).
        40078 (wrong, used or expired code) raises InvalidRequest, 40079 (user outside the
        visible range) PermissionDenied.
        """
        if legacy:
            body = self._get("user/getuserinfo", code=code)
            required(body, "userid", "user/getuserinfo")
            return SsoUser.from_legacy(body)
        answer = result(self._post("topapi/v2/user/getuserinfo", {"code": code}))
        required(answer, "userid", "topapi/v2/user/getuserinfo")
        return SsoUser.from_v2(answer)

    def get(self, userid: str, *, lang: str | None = None) -> User:
        """One user's details.

        Doc: query-user-details (user/get).
        """
        return User.from_v1(self._get("user/get", userid=userid, lang=lang))

    def dept_member_ids(self, dept_id: int) -> list[str]:
        """Userids of a department's direct members.

        Doc: obtain-the-list-of-department-userids (user/getDeptMember).
        """
        body = self._get("user/getDeptMember", deptId=dept_id)
        return [str(u) for u in body.get("userIds", ())]

    def list_page(self, dept_id: int, *, offset: int = 0, size: int = MAX_PAGE_SIZE,
                  order: str | None = None, lang: str | None = None) -> UserPage:
        """One page of a department's direct members, with details.

        Doc: obtain-the-list-of-department-members-details (user/listbypage).
        """
        body = self._get("user/listbypage", department_id=dept_id, offset=offset, size=size,
                         order=order, lang=lang)
        users = tuple(User.from_v1(u) for u in body.get("userlist", ()))
        return UserPage(users=users, has_more=bool(body.get("hasMore")))

    def list_by_page(self, dept_id: int, *, size: int = MAX_PAGE_SIZE,
                     order: str | None = None, lang: str | None = None) -> Iterator[User]:
        """Every direct member of a department, page by page (user/listbypage)."""
        offset = 0
        while True:
            page = self.list_page(dept_id, offset=offset, size=size, order=order, lang=lang)
            yield from page.users
            # An empty page with hasMore set would otherwise loop forever.
            if not page.has_more or not page.users:
                return
            offset += len(page.users)

    def userid_by_unionid(self, unionid: str) -> UnionIdLookup:
        """The userid behind a unionid.

        Doc: query-a-user-id-based-on-unionid (user/getUseridByUnionid).
        """
        body = self._get("user/getUseridByUnionid", unionid=unionid)
        contact_type = body.get("contactType")
        return UnionIdLookup(userid=str(required(body, "userid", "user/getUseridByUnionid")),
                             contact_type=None if contact_type is None else int(contact_type))
