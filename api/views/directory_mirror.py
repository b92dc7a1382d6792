"""Directory reads served from the tenant's mirror (/api/v1/tenants/<corp_id>/directory/...):
no DingTalk call, an `ETag` of the mirror's version (`If-None-Match` -> 304) and the
`synced_at` of its last full sync on every answer. A mirror that never finished a sync is a 409
`directory_not_synced`, not an empty list. The live proxy routes (api/views/directory.py) stay
for callers that want DingTalk's own answer.
"""

from __future__ import annotations

import base64
import binascii

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.fields import TrueFalseField
from api.selectors.directory_mirror import mirror_users_page
from api.views.base import TenantApi
from api.views.directory import DEPT_ID, USERID, _dept_id, _userid, _valid
from core.errors import ServiceError
from directory import selectors
from directory.selectors import MirrorState

MAX_PAGE_SIZE, PAGE_SIZE = 200, 50
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="opaque: the `next` link's"),
    OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                     description=f"results per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})"),
]
IF_NONE_MATCH = OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER,
                                 description="an ETag of an earlier answer: 304 if unchanged")


class DirectoryNotSynced(ServiceError):
    """The tenant's mirror has never finished a full sync: there is nothing true to serve."""

    code = "directory_not_synced"
    http_status = 409


def _etag(state: MirrorState | None, *, with_status: bool = False) -> str:
    # Weak: one mirror version answers every URL, and the links in a page follow the host.
    if state is None:
        return 'W/"none"'
    # state/ also shows freshness and the sync's status, which move without the rows moving.
    suffix = f"-{int(state.fresh)}-{state.status}" if with_status else ""
    return f'W/"{state.etag}{suffix}"'


def _matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
    return "*" in tags or etag.removeprefix("W/") in tags


class MirrorApi(TenantApi):
    """A read of the mirror: `check()` answers 304 or 409 before any row is read."""

    state: MirrorState | None = None
    etag_with_status = False

    def check(self, request, *, require_sync: bool = True) -> Response | None:
        self.state = selectors.mirror_state(tenant=self.tenant)
        if require_sync and (self.state is None or self.state.synced_at is None):
            raise DirectoryNotSynced("the tenant's directory has not been synced yet; "
                                     "see directory/state/")
        if _matches(request, self.etag()):
            return self.answer(None, status=304)
        return None

    def answer(self, data: dict | None, *, status: int = 200) -> Response:
        response = Response(data, status=status)
        response["ETag"] = self.etag()
        response["Cache-Control"] = "private, no-cache"
        return response

    def etag(self) -> str:
        return _etag(self.state, with_status=self.etag_with_status)

    def stamped(self, data: dict) -> dict:
        return {"synced_at": self.state.synced_at, "generation": self.state.generation, **data}


class MembershipSerializer(serializers.Serializer):
    dept_id = serializers.IntegerField()
    order = serializers.IntegerField(allow_null=True)
    is_leader = serializers.BooleanField()


class MirrorDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="dept_id")
    name = serializers.CharField(help_text="empty for a contact-encrypted tenant")
    parent_id = serializers.IntegerField(allow_null=True)
    order = serializers.IntegerField(allow_null=True)
    manager_userids = serializers.ListField(child=serializers.CharField())


class MirrorUserSerializer(serializers.Serializer):
    userid = serializers.CharField()
    unionid = serializers.CharField()
    name = serializers.CharField(help_text="empty for a contact-encrypted tenant")
    title = serializers.CharField()
    avatar = serializers.CharField()
    active = serializers.BooleanField()
    is_admin = serializers.BooleanField()
    is_boss = serializers.BooleanField()
    is_senior = serializers.BooleanField(allow_null=True)
    departments = MembershipSerializer(many=True, source="memberships")


class StampSerializer(serializers.Serializer):
    synced_at = serializers.DateTimeField(help_text="the end of the last successful full sync")
    generation = serializers.IntegerField()


def _page_of(item: type, name: str) -> type:
    return type(name, (StampSerializer,), {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True, help_text="always null: "
                                         "the mirror's lists page forward"),
        "results": item(many=True)})


MirrorDepartmentPage = _page_of(MirrorDepartmentSerializer, "MirrorDepartmentPageSerializer")
MirrorUserPage = _page_of(MirrorUserSerializer, "MirrorUserPageSerializer")


class MirrorDepartmentDetailSerializer(StampSerializer):
    department = MirrorDepartmentSerializer()


class MirrorUserDetailSerializer(StampSerializer):
    user = MirrorUserSerializer()


def _encode(userid: str) -> str:
    return base64.urlsafe_b64encode(f"u:{userid}".encode()).decode().rstrip("=")


def _page_request(request) -> tuple[str | None, int]:
    """(after_userid, page size) of a keyset page; a cursor not of ours is a 404."""
    token, raw = request.query_params.get("cursor"), request.query_params.get("page_size")
    after = None
    if token is not None:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            text = ""
        if not text.startswith("u:") or len(text) < 3 or "\x00" in text:
            raise NotFound("not a cursor of this list: follow the `next` link as given",
                           code="invalid_cursor")
        after = text[2:]
    if raw is None:
        return after, PAGE_SIZE
    # The length first: int() of thousands of digits raises (int_max_str_digits): a 500.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3
            and 1 <= int(raw) <= MAX_PAGE_SIZE):
        raise ValidationError({"page_size": [f"a whole number from 1 to {MAX_PAGE_SIZE}"]})
    return after, int(raw)


class _UserPage(MirrorApi):
    def users_page(self, request, *, dept_id: int | None, include_subtree: bool) -> Response:
        after, size = _page_request(request)
        rows = mirror_users_page(tenant=self.tenant, dept_id=dept_id,
                                 include_subtree=include_subtree, after_userid=after,
                                 limit=size + 1)
        following = None
        if len(rows) > size:
            rows = rows[:size]
            following = replace_query_param(request.build_absolute_uri(), "cursor",
                                            _encode(rows[-1].userid))
        return self.answer(MirrorUserPage(self.stamped({
            "next": following, "previous": None, "results": rows})).data)


class MirrorDepartmentListApi(MirrorApi):
    """Every live department of the mirror (children of `parent_id` when given), by order."""

    class FilterSerializer(serializers.Serializer):
        parent_id = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(operation_id="directory_mirror_departments_list",
                   parameters=[FilterSerializer, IF_NONE_MATCH], responses=MirrorDepartmentPage)
    def get(self, request, corp_id: str):
        filters = _valid(self.FilterSerializer, request.query_params.dict())
        if (not_modified := self.check(request)) is not None:
            return not_modified
        rows = selectors.departments(tenant=self.tenant, parent_id=filters.get("parent_id"))
        return self.answer(MirrorDepartmentPage(self.stamped({
            "next": None, "previous": None, "results": list(rows)})).data)


class MirrorDepartmentDetailApi(MirrorApi):
    """One department of the mirror."""

    @extend_schema(operation_id="directory_mirror_department_retrieve",
                   parameters=[DEPT_ID, IF_NONE_MATCH], responses=MirrorDepartmentDetailSerializer)
    def get(self, request, corp_id: str, dept_id: str):
        dept_id = _dept_id(dept_id)
        if (not_modified := self.check(request)) is not None:
            return not_modified
        row = selectors.department(tenant=self.tenant, dept_id=dept_id)
        if row is None:
            raise NotFound("no such department in the mirror", code="department_not_found")
        return self.answer(MirrorDepartmentDetailSerializer(self.stamped(
            {"department": row})).data)


class MirrorDepartmentUsersApi(_UserPage):
    """A department's members (direct, or its whole subtree with `include_subtree=true`)."""

    class FilterSerializer(serializers.Serializer):
        include_subtree = TrueFalseField(default=False)

    @extend_schema(operation_id="directory_mirror_department_users",
                   parameters=[DEPT_ID, FilterSerializer, IF_NONE_MATCH, *PAGE_PARAMETERS],
                   responses=MirrorUserPage)
    def get(self, request, corp_id: str, dept_id: str):
        dept_id = _dept_id(dept_id)
        subtree = _valid(self.FilterSerializer, request.query_params.dict())["include_subtree"]
        if (not_modified := self.check(request)) is not None:
            return not_modified
        if selectors.department(tenant=self.tenant, dept_id=dept_id) is None:
            raise NotFound("no such department in the mirror", code="department_not_found")
        return self.users_page(request, dept_id=dept_id, include_subtree=subtree)


class MirrorUserListApi(_UserPage):
    """Every live user of the mirror, by userid."""

    @extend_schema(operation_id="directory_mirror_users_list",
                   parameters=[IF_NONE_MATCH, *PAGE_PARAMETERS], responses=MirrorUserPage)
    def get(self, request, corp_id: str):
        if (not_modified := self.check(request)) is not None:
            return not_modified
        return self.users_page(request, dept_id=None, include_subtree=False)


class MirrorUserDetailApi(MirrorApi):
    """One user of the mirror with its departments."""

    @extend_schema(operation_id="directory_mirror_user_retrieve",
                   parameters=[USERID, IF_NONE_MATCH], responses=MirrorUserDetailSerializer)
    def get(self, request, corp_id: str, userid: str):
        userid = _userid(userid)
        if (not_modified := self.check(request)) is not None:
            return not_modified
        row = selectors.user(tenant=self.tenant, userid=userid)
        if row is None:
            raise NotFound("no such user in the mirror", code="user_not_found")
        return self.answer(MirrorUserDetailSerializer(self.stamped({"user": row})).data)


class MirrorStateSerializer(serializers.Serializer):
    synced_at = serializers.DateTimeField(allow_null=True)
    generation = serializers.IntegerField()
    fresh = serializers.BooleanField(help_text="a recent full sync succeeded and none failed "
                                               "since")
    status = serializers.CharField(help_text="the full sync: idle, queued, running, failed")
    department_count = serializers.IntegerField()
    user_count = serializers.IntegerField()


class MirrorStateApi(MirrorApi):
    """What the mirror holds and whether it is fresh (answered before any sync too)."""

    etag_with_status = True

    @extend_schema(operation_id="directory_mirror_state", parameters=[IF_NONE_MATCH],
                   responses=MirrorStateSerializer)
    def get(self, request, corp_id: str):
        if (not_modified := self.check(request, require_sync=False)) is not None:
            return not_modified
        state = self.state
        data = {"synced_at": None, "generation": 0, "fresh": False, "status": "never",
                "department_count": 0, "user_count": 0}
        if state is not None:
            data.update(synced_at=state.synced_at, generation=state.generation,
                        fresh=state.fresh, status=state.status,
                        department_count=state.department_count, user_count=state.user_count)
        return self.answer(MirrorStateSerializer(data).data)
