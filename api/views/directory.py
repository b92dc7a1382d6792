"""Directory reads for a tenant: departments, users and the token's scopes, as DingTalk answers
them now (directory.services.reads; no mirror yet).

Lists are cursor pages like every list here ({next, previous, results}). DingTalk pages
members by offset, so their cursor is an opaque token of DingTalk's offset; the other lists
DingTalk answers whole, and each page is a slice of the whole answer, fetched again per page.
Paths (a department's parents, a user's parent departments) and the scopes are one object each:
a cut path means nothing.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.fields import TEXT_PATTERN, TrueFalseField, WholeNumberField
from api.pagination import paginated
from api.pagination_positions import PositionCursorPagination
from api.views.base import TenantApi
from dingtalk.api.users import MAX_PAGE_SIZE
from directory.services import reads

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="opaque: the `next` or `previous` link's"),
    OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": 200},
                     description="results per page, 1 to 200 (default 50; members: pages of "
                                 "at most 100, DingTalk's own limit)"),
]
DEPT_ID = OpenApiParameter("dept_id", {"type": "integer", "minimum": 1, "maximum": reads.MAX_ID},
                           OpenApiParameter.PATH, description="a DingTalk department id (root 1)")
USERID = OpenApiParameter("userid", {"type": "string", "maxLength": reads.MAX_USERID,
                                     "pattern": TEXT_PATTERN}, OpenApiParameter.PATH)
UNIONID = OpenApiParameter("unionid", {"type": "string", "maxLength": reads.MAX_UNIONID,
                                       "pattern": TEXT_PATTERN}, OpenApiParameter.PATH)
LANG = OpenApiParameter("lang", enum=list(reads.LANGS))


def _valid(serializer_class: type, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DeptIdSerializer(serializers.Serializer):
    dept_id = WholeNumberField(min_value=1, max_value=reads.MAX_ID)


class UseridSerializer(serializers.Serializer):
    # Text, not a slug: DingTalk lets a corp choose its userids.
    userid = serializers.RegexField(TEXT_PATTERN, max_length=reads.MAX_USERID,
                                    trim_whitespace=False)


class LangSerializer(serializers.Serializer):
    lang = serializers.ChoiceField(choices=reads.LANGS, required=False)


def _dept_id(value: str) -> int:
    return _valid(DeptIdSerializer, {"dept_id": value})["dept_id"]


def _userid(value: str) -> str:
    return _valid(UseridSerializer, {"userid": value})["userid"]


class DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    order = serializers.IntegerField(allow_null=True)


class DirectoryUserSerializer(serializers.Serializer):
    userid = serializers.CharField()
    name = serializers.CharField()
    unionid = serializers.CharField(allow_null=True)
    dept_ids = serializers.ListField(child=serializers.IntegerField())
    active = serializers.BooleanField(allow_null=True)
    admin = serializers.BooleanField(allow_null=True)
    boss = serializers.BooleanField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    job_number = serializers.CharField(allow_null=True)
    avatar = serializers.CharField(allow_null=True)
    # DingTalk shows these to internal apps only; a suite's tenant gets null.
    mobile = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)


class DepartmentIdItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class MemberIdItemSerializer(serializers.Serializer):
    userid = serializers.CharField()


class _WholeListPage:
    """A page of a list DingTalk answers whole: the page asked for is read (and refused) before
    DingTalk is called, then cut from the answer."""

    def __init__(self, request) -> None:
        self.request = request
        self.paginator = PositionCursorPagination()
        self.position, self.size = self.paginator.read(request)

    def answer(self, items: list, serializer_class: type) -> Response:
        page, following, preceding = self.paginator.slice(items, position=self.position,
                                                          size=self.size)
        return self.paginator.response(self.request, serializer_class(page, many=True).data,
                                       next_position=following, previous_position=preceding)


class DepartmentSubIdsApi(TenantApi):
    """Ids of a department's direct sub-departments (DingTalk does not limit this by scope)."""

    @extend_schema(operation_id="directory_department_sub_ids",
                   parameters=[DEPT_ID, *PAGE_PARAMETERS],
                   responses=paginated(DepartmentIdItemSerializer))
    def get(self, request, corp_id: str, dept_id: str):
        dept_id, page = _dept_id(dept_id), _WholeListPage(request)
        ids = reads.department_sub_ids(tenant=self.tenant, dept_id=dept_id)
        return page.answer([{"id": i} for i in ids], DepartmentIdItemSerializer)


class DepartmentListApi(TenantApi):
    """A department's sub-departments (`parent`, default 1), or its whole subtree with
    `fetch_child=true`, in DingTalk's order."""

    class FilterSerializer(LangSerializer):
        parent = WholeNumberField(min_value=1, max_value=reads.MAX_ID, default=1)
        fetch_child = TrueFalseField(default=False)

    @extend_schema(operation_id="directory_departments_list",
                   parameters=[FilterSerializer, *PAGE_PARAMETERS],
                   responses=paginated(DepartmentSerializer))
    def get(self, request, corp_id: str):
        filters = _valid(self.FilterSerializer, request.query_params.dict())
        page = _WholeListPage(request)
        departments = reads.department_list(tenant=self.tenant, dept_id=filters["parent"],
                                            fetch_child=filters["fetch_child"],
                                            lang=filters.get("lang"))
        return page.answer(departments, DepartmentSerializer)


class DepartmentDetailApi(TenantApi):
    """One department."""

    @extend_schema(operation_id="directory_department_retrieve", parameters=[DEPT_ID, LANG],
                   responses=DepartmentSerializer)
    def get(self, request, corp_id: str, dept_id: str):
        lang = _valid(LangSerializer, request.query_params.dict()).get("lang")
        department = reads.department_get(tenant=self.tenant, dept_id=_dept_id(dept_id),
                                          lang=lang)
        return Response(DepartmentSerializer(department).data)


class DepartmentParentsSerializer(serializers.Serializer):
    dept_id = serializers.IntegerField()
    parent_ids = serializers.ListField(child=serializers.IntegerField())


class DepartmentParentsApi(TenantApi):
    """The path from a department up to the root: itself first, 1 last."""

    OutputSerializer = DepartmentParentsSerializer

    @extend_schema(operation_id="directory_department_parents", parameters=[DEPT_ID],
                   responses=OutputSerializer)
    def get(self, request, corp_id: str, dept_id: str):
        dept_id = _dept_id(dept_id)
        parent_ids = reads.department_parent_ids(tenant=self.tenant, dept_id=dept_id)
        return Response(self.OutputSerializer({"dept_id": dept_id,
                                               "parent_ids": parent_ids}).data)


class UserParentPathsSerializer(serializers.Serializer):
    userid = serializers.CharField()
    paths = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class UserParentDepartmentsApi(TenantApi):
    """One path to the root per department the user is in (each: the department first)."""

    OutputSerializer = UserParentPathsSerializer

    @extend_schema(operation_id="directory_user_parent_departments", parameters=[USERID],
                   responses=OutputSerializer)
    def get(self, request, corp_id: str, userid: str):
        userid = _userid(userid)
        paths = reads.user_parent_paths(tenant=self.tenant, userid=userid)
        return Response(self.OutputSerializer({"userid": userid, "paths": paths}).data)


class UserCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    only_active = serializers.BooleanField()


class UserCountApi(TenantApi):
    """How many users the corp has (`only_active=true`: those who activated DingTalk)."""

    class FilterSerializer(serializers.Serializer):
        only_active = TrueFalseField(default=False)

    OutputSerializer = UserCountSerializer

    @extend_schema(operation_id="directory_user_count", parameters=[FilterSerializer],
                   responses=OutputSerializer)
    def get(self, request, corp_id: str):
        only_active = _valid(self.FilterSerializer, request.query_params.dict())["only_active"]
        count = reads.user_count(tenant=self.tenant, only_active=only_active)
        return Response(self.OutputSerializer({"count": count, "only_active": only_active}).data)


class UserDetailApi(TenantApi):
    """One user (a suite's tenant never sees mobile or email: DingTalk withholds them)."""

    @extend_schema(operation_id="directory_user_retrieve", parameters=[USERID, LANG],
                   responses=DirectoryUserSerializer)
    def get(self, request, corp_id: str, userid: str):
        lang = _valid(LangSerializer, request.query_params.dict()).get("lang")
        user = reads.user_get(tenant=self.tenant, userid=_userid(userid), lang=lang)
        return Response(DirectoryUserSerializer(user).data)


class DepartmentMemberIdsApi(TenantApi):
    """Userids of a department's direct members, in the department's order."""

    @extend_schema(operation_id="directory_department_member_ids",
                   parameters=[DEPT_ID, *PAGE_PARAMETERS],
                   responses=paginated(MemberIdItemSerializer))
    def get(self, request, corp_id: str, dept_id: str):
        dept_id, page = _dept_id(dept_id), _WholeListPage(request)
        userids = reads.department_member_ids(tenant=self.tenant, dept_id=dept_id)
        return page.answer([{"userid": u} for u in userids], MemberIdItemSerializer)


class DepartmentMembersApi(TenantApi):
    """A department's direct members with details; one DingTalk call (user/listbypage) per
    page, the cursor carrying DingTalk's offset."""

    class FilterSerializer(LangSerializer):
        order = serializers.ChoiceField(choices=reads.ORDERS, required=False)

    @extend_schema(operation_id="directory_department_members",
                   parameters=[DEPT_ID, FilterSerializer, *PAGE_PARAMETERS],
                   responses=paginated(DirectoryUserSerializer))
    def get(self, request, corp_id: str, dept_id: str):
        dept_id = _dept_id(dept_id)
        filters = _valid(self.FilterSerializer, request.query_params.dict())
        paginator = PositionCursorPagination(max_position=reads.MAX_OFFSET)
        offset, size = paginator.read(request)
        # DingTalk's pages hold at most 100: a bigger page_size gets pages of 100.
        size = min(size, MAX_PAGE_SIZE)
        page = reads.department_members_page(tenant=self.tenant, dept_id=dept_id, offset=offset,
                                             size=size, order=filters.get("order"),
                                             lang=filters.get("lang"))
        # An empty page that says hasMore would send a client round for ever.
        more = page.has_more and bool(page.users)
        return paginator.response(
            request, DirectoryUserSerializer(page.users, many=True).data,
            next_position=offset + len(page.users) if more else None,
            previous_position=max(0, offset - size) if offset > 0 else None)


class UnionidLookupSerializer(serializers.Serializer):
    unionid = serializers.CharField()
    userid = serializers.CharField()
    contact_type = serializers.IntegerField(allow_null=True)


class UserByUnionidApi(TenantApi):
    """The userid behind a unionid in this corp (contact_type 0 employee, 1 external)."""

    class InputSerializer(serializers.Serializer):
        unionid = serializers.RegexField(TEXT_PATTERN, max_length=reads.MAX_UNIONID,
                                         trim_whitespace=False)

    OutputSerializer = UnionidLookupSerializer

    @extend_schema(operation_id="directory_user_by_unionid", parameters=[UNIONID],
                   responses=OutputSerializer)
    def get(self, request, corp_id: str, unionid: str):
        unionid = _valid(self.InputSerializer, {"unionid": unionid})["unionid"]
        found = reads.userid_by_unionid(tenant=self.tenant, unionid=unionid)
        return Response(self.OutputSerializer({"unionid": unionid, "userid": found.userid,
                                               "contact_type": found.contact_type}).data)


class AuthScopesSerializer(serializers.Serializer):
    authed_dept_ids = serializers.ListField(child=serializers.IntegerField())
    authed_userids = serializers.ListField(child=serializers.CharField())
    user_fields = serializers.ListField(child=serializers.CharField())
    condition_fields = serializers.ListField(child=serializers.CharField())


class AuthScopesApi(TenantApi):
    """What the tenant's token may read: departments, users and user fields."""

    OutputSerializer = AuthScopesSerializer

    @extend_schema(operation_id="directory_auth_scopes", responses=OutputSerializer)
    def get(self, request, corp_id: str):
        return Response(self.OutputSerializer(reads.auth_scopes_get(tenant=self.tenant)).data)
