"""Contacts v1 (GET, query params): department/*, user/* and auth/scopes (PROTOCOL 4)."""

from ..codes import ApiFail
from ..context import CallContext
from ..models import DEFAULT_AUTH_USER_FIELD, ROOT_DEPT_ID, Department, User
from ..registry import api
from . import views

ORDERS = ("entry_asc", "entry_desc", "modify_asc", "modify_desc", "custom")
PAGE_MAX = 100


def find_user(ctx: CallContext, userid: str, *, missing: int = 60121) -> User:
    """The user, in the caller's scope (50002 outside it)."""
    user = ctx.corp.users.get(userid)
    if user is None:
        raise ApiFail(missing)
    if not ctx.user_in_scope(user):
        raise ApiFail(50002)
    return user


def find_dept(ctx: CallContext, name: str, *, scoped: bool, default: int | None = None,
              missing: int = 60003) -> Department:
    """The department named by parameter `name` (60003 unknown; 50004 outside the scope)."""
    dept_id = ctx.int_arg(name, default=default)
    dept = ctx.corp.depts.get(dept_id)
    if dept is None:
        raise ApiFail(missing)
    if scoped and not ctx.dept_in_scope(dept_id):
        raise ApiFail(50004)
    return dept


def page_args(ctx: CallContext, *, offset_name: str, size_name: str, required: bool,
              size_max: int = PAGE_MAX) -> tuple[int, int]:
    if required:
        offset = ctx.int_arg(offset_name, errcode=40068)
        size = ctx.int_arg(size_name, errcode=40069)
    else:
        offset = ctx.int_arg(offset_name, default=0, errcode=40068)
        size = ctx.int_arg(size_name, default=size_max, errcode=40069)
    if offset < 0:
        raise ApiFail(40068)
    if size < 1 or size > size_max:
        raise ApiFail(40069)
    return offset, size


def ordered_members(ctx: CallContext, dept_id: int, order: str) -> list[User]:
    """Direct members of dept_id in DingTalk's order (custom: the dept order, descending)."""
    if order not in ORDERS:
        raise ApiFail(40070)
    users = [ctx.corp.users[u] for u in ctx.corp.members.get(dept_id, ())]
    users = [u for u in users if ctx.user_in_scope(u)]
    if order == "custom":
        return sorted(users, key=lambda u: (-u.orders.get(dept_id, 0), u.userid))
    reverse = order.endswith("_desc")
    return sorted(users, key=lambda u: (u.entry_ms, u.userid), reverse=reverse)


@api("/department/list_ids")
def department_list_ids(ctx: CallContext) -> dict:
    """Direct children; not limited by the auth scope."""
    with ctx.state.lock:
        dept = find_dept(ctx, "id", scoped=False)
        return {"sub_dept_id_list": list(ctx.corp.children.get(dept.id, ()))}


@api("/department/list")
def department_list(ctx: CallContext) -> dict:
    fetch_child = ctx.bool_arg("fetch_child", default=ctx.config.fetch_child_default)
    with ctx.state.lock:
        dept = find_dept(ctx, "id", scoped=True, default=ROOT_DEPT_ID)
        ids = ctx.corp.subtree(dept.id)[1:] if fetch_child else ctx.corp.children[dept.id]
        depts = [ctx.corp.depts[i] for i in ids if ctx.dept_in_scope(i)]
        depts.sort(key=lambda d: (d.order, d.id))
        return {"department": [views.dept_v1_list_item(d) for d in depts]}


@api("/department/get")
def department_get(ctx: CallContext) -> dict:
    with ctx.state.lock:
        dept = find_dept(ctx, "id", scoped=True)
        return views.dept_v1(dept, isv=ctx.caller.is_isv)


@api("/department/list_parent_depts_by_dept")
def department_parents_by_dept(ctx: CallContext) -> dict:
    """Self first, root last; not limited by the auth scope."""
    with ctx.state.lock:
        dept = find_dept(ctx, "id", scoped=False)
        return {"parentIds": ctx.corp.parents(dept.id)}


@api("/department/list_parent_depts")
def department_parents_of_user(ctx: CallContext) -> dict:
    userid = ctx.require_str("userId")
    with ctx.state.lock:
        user = find_user(ctx, userid)
        paths = [ctx.corp.parents(d) for d in user.depts]
    if ctx.config.parent_depts_nested:
        return {"department": paths}
    return {"department": [d for path in paths for d in path]}


@api("/user/get_org_user_count")
def user_count(ctx: CallContext) -> dict:
    only_active = ctx.int_arg("onlyActive")
    if only_active not in (0, 1):
        raise ctx.bad_param()
    with ctx.state.lock:
        users = ctx.corp.users.values()
        return {"count": sum(1 for u in users if u.active or not only_active)}


@api("/user/get")
def user_get(ctx: CallContext) -> dict:
    userid = ctx.require_str("userid")
    with ctx.state.lock:
        return views.user_v1(find_user(ctx, userid), isv=ctx.caller.is_isv)


@api("/user/getDeptMember")
def user_dept_member(ctx: CallContext) -> dict:
    with ctx.state.lock:
        dept = find_dept(ctx, "deptId", scoped=True)
        users = ordered_members(ctx, dept.id, "custom")
        return {"userIds": [u.userid for u in users]}


def _user_page(ctx: CallContext, render) -> dict:
    order = str(ctx.get("order", "custom"))
    required = ctx.endpoint == "user/listbypage"
    offset, size = page_args(ctx, offset_name="offset", size_name="size", required=required)
    with ctx.state.lock:
        dept = find_dept(ctx, "department_id", scoped=True)
        users = ordered_members(ctx, dept.id, order)
        page = users[offset:offset + size]
        return {"hasMore": offset + size < len(users),
                "userlist": [render(u, dept.id) for u in page]}


@api("/user/simplelist")
def user_simplelist(ctx: CallContext) -> dict:
    return _user_page(ctx, lambda u, _dept: {"userid": u.userid, "name": u.name})


# /user/list is the 2016 name of listbypage (PROTOCOL 4.3); 007gzs-sdk still calls it.
@api("/user/list")
@api("/user/listbypage")
def user_listbypage(ctx: CallContext) -> dict:
    isv = ctx.caller.is_isv
    return _user_page(ctx, lambda u, dept_id: views.user_v1_list_item(u, dept_id, isv=isv))


@api("/user/getUseridByUnionid")
def user_by_unionid(ctx: CallContext) -> dict:
    unionid = ctx.require_str("unionid")
    with ctx.state.lock:
        userid = ctx.corp.by_unionid.get(unionid)
        if userid is None:
            raise ApiFail(60121)
        find_user(ctx, userid)
    return {"contactType": 0, "userid": userid}


@api("/auth/scopes")
def auth_scopes(ctx: CallContext) -> dict:
    record = ctx.auth_record
    if record is None:
        fields, depts, users = list(DEFAULT_AUTH_USER_FIELD), [ROOT_DEPT_ID], []
    else:
        fields, depts, users = record.auth_user_field, record.authed_dept, record.authed_user
    return {"condition_field": [], "auth_user_field": list(fields),
            "auth_org_scopes": {"authed_user": list(users), "authed_dept": list(depts)}}
