"""Contacts v2 (POST JSON, payload under `result`): topapi/v2/department, v2/user, user/*."""

from ..codes import ApiFail
from ..context import CallContext
from ..models import ROOT_DEPT_ID, Department
from ..registry import api
from . import views
from .contacts_v1 import find_user, ordered_members, page_args

_ORDER_FIELDS = ("entry_asc", "entry_desc", "modify_asc", "modify_desc", "custom")


def _dept(ctx: CallContext, *, scoped: bool, default: int | None = None) -> Department:
    dept_id = ctx.int_arg("dept_id", default=default)
    dept = ctx.corp.depts.get(dept_id)
    if dept is None:
        raise ApiFail(60003, "未找到对应部门")
    if scoped and not ctx.dept_in_scope(dept_id):
        raise ApiFail(50004)
    return dept


@api("/topapi/v2/department/listsub", method="POST")
def department_listsub(ctx: CallContext) -> dict:
    with ctx.state.lock:
        dept = _dept(ctx, scoped=True, default=ROOT_DEPT_ID)
        children = [ctx.corp.depts[i] for i in ctx.corp.children.get(dept.id, ())
                    if ctx.dept_in_scope(i)]
        return {"result": [views.dept_v2_list_item(d) for d in children]}


@api("/topapi/v2/department/listsubid", method="POST")
def department_listsubid(ctx: CallContext) -> dict:
    """Not limited by the auth scope."""
    with ctx.state.lock:
        dept = _dept(ctx, scoped=False)
        return {"result": {"dept_id_list": list(ctx.corp.children.get(dept.id, ()))}}


@api("/topapi/v2/department/get", method="POST")
def department_get(ctx: CallContext) -> dict:
    with ctx.state.lock:
        dept = _dept(ctx, scoped=True)
        count = len({u for d in ctx.corp.subtree(dept.id) for u in ctx.corp.members.get(d, ())})
        return {"result": views.dept_v2(dept, isv=ctx.caller.is_isv, member_count=count)}


@api("/topapi/v2/department/listparentbydept", method="POST")
def department_listparentbydept(ctx: CallContext) -> dict:
    with ctx.state.lock:
        dept = _dept(ctx, scoped=False)
        return {"result": {"parent_id_list": ctx.corp.parents(dept.id)}}


@api("/topapi/v2/department/listparentbyuser", method="POST")
def department_listparentbyuser(ctx: CallContext) -> dict:
    userid = ctx.require_str("userid")
    with ctx.state.lock:
        user = find_user(ctx, userid, missing=33012)
        paths = [{"parent_dept_id_list": ctx.corp.parents(d)} for d in user.depts]
    return {"result": {"parent_list": paths}}


@api("/topapi/v2/user/get", method="POST")
def user_get(ctx: CallContext) -> dict:
    userid = ctx.require_str("userid")
    with ctx.state.lock:
        user = find_user(ctx, userid, missing=33012)
        return {"result": views.user_v2(user, isv=ctx.caller.is_isv)}


def _cursor_page(ctx: CallContext, render) -> dict:
    order = str(ctx.get("order_field", "custom"))
    if order not in _ORDER_FIELDS:
        raise ApiFail(40070)
    cursor, size = page_args(ctx, offset_name="cursor", size_name="size", required=True)
    with ctx.state.lock:
        dept = _dept(ctx, scoped=True)
        users = ordered_members(ctx, dept.id, order)
        page = users[cursor:cursor + size]
        result = {"has_more": cursor + size < len(users),
                  "list": [render(u, dept.id) for u in page]}
    if result["has_more"]:
        result["next_cursor"] = cursor + size
    return {"result": result}


@api("/topapi/v2/user/list", method="POST")
def user_list(ctx: CallContext) -> dict:
    isv = ctx.caller.is_isv
    return _cursor_page(ctx, lambda u, dept_id: views.user_v2(u, isv=isv, dept_id=dept_id))


@api("/topapi/user/listsimple", method="POST")
def user_listsimple(ctx: CallContext) -> dict:
    return _cursor_page(ctx, lambda u, _dept: {"userid": u.userid, "name": u.name})


@api("/topapi/user/listid", method="POST")
def user_listid(ctx: CallContext) -> dict:
    """Not limited by the auth scope."""
    with ctx.state.lock:
        dept = _dept(ctx, scoped=False)
        return {"result": {"userid_list": list(ctx.corp.members.get(dept.id, ()))}}


@api("/topapi/user/count", method="POST")
def user_count(ctx: CallContext) -> dict:
    if ctx.get("only_active") is None:
        raise ctx.bad_param("缺少参数 only_active")
    only_active = ctx.bool_arg("only_active", default=False)
    with ctx.state.lock:
        count = sum(1 for u in ctx.corp.users.values() if u.active or not only_active)
    return {"result": {"count": count}}


@api("/topapi/user/getbyunionid", method="POST")
def user_getbyunionid(ctx: CallContext) -> dict:
    unionid = ctx.require_str("unionid")
    if len(unionid) > 100:
        raise ctx.bad_param()
    with ctx.state.lock:
        userid = ctx.corp.by_unionid.get(unionid)
        if userid is None:
            raise ApiFail(60121)
        find_user(ctx, userid)
    return {"result": {"contact_type": 0, "userid": userid}}
