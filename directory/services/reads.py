"""DingTalk's directory read for one tenant (v1 contacts, PROTOCOL 4.1/4.3/4.5): departments,
users, and what the tenant's token may read (auth/scopes).

Every read goes through `client_for(tenant)` (an inactive tenant: TenantInactive, before any
call). Input is checked first, so DingTalk never sees an id it could only refuse: ids are
positive 64-bit integers, userids and unionids non-empty text of DingTalk's lengths without
NUL, pages within listbypage's bounds. DingTalk's own refusals (not found, out of scope,
throttled) pass up as dingtalk.errors for the caller to map. Results are the dingtalk.api
models, whose `raw` keeps DingTalk's body for callers that answer it as-is (the seed's routes).
"""

from __future__ import annotations

from typing import Any

from dingtalk.api.models import AuthScopes, Department, UnionIdLookup, User, UserPage
from dingtalk.api.users import MAX_PAGE_SIZE
from directory.errors import (
    DepartmentIdInvalid,
    DirectoryInputInvalid,
    LangInvalid,
    PageInvalid,
    UnionidInvalid,
    UseridInvalid,
)
from tenants.models import Tenant
from tenants.services.clients import client_for

ROOT_DEPT_ID = 1
# DingTalk's ids are Java longs: anything above cannot name a department.
MAX_ID = 2**63 - 1
# DingTalk documents userids of 1-64 characters and unionids of at most 100
# (topapi/user/getbyunionid, PROTOCOL 4.4).
MAX_USERID = 64
MAX_UNIONID = 100
LANGS = ("zh_CN", "en_US")
# user/listbypage's `order` values (PROTOCOL 4.3); custom is the department's own order.
ORDERS = ("entry_asc", "entry_desc", "modify_asc", "modify_desc", "custom")
# An offset past any department's size; keeps a crafted offset from reaching DingTalk.
MAX_OFFSET = 1_000_000


def _shown(value: Any) -> Any:
    """A refused value as an error may echo it: short, NUL-free, JSON-safe."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) <= MAX_ID else f"{str(value)[:20]}..."
    return str(value)[:64].replace("\x00", "")


def _dept_id(value: Any, field: str = "dept_id") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise DepartmentIdInvalid(f"{field} must be a positive integer below 2^63",
                                  extra={"field": field, "value": _shown(value)})
    return value


def _text(value: Any, *, field: str, limit: int, error: type) -> str:
    if (not isinstance(value, str) or not value.strip() or len(value) > limit
            or "\x00" in value):
        raise error(f"{field} must be 1-{limit} characters of text without NUL",
                    extra={"field": field, "value": _shown(value)})
    return value


def _userid(value: Any) -> str:
    return _text(value, field="userid", limit=MAX_USERID, error=UseridInvalid)


def _lang(value: Any) -> str | None:
    if value is not None and value not in LANGS:
        raise LangInvalid(f"lang must be one of {', '.join(LANGS)}",
                          extra={"field": "lang", "value": _shown(value)})
    return value


def department_sub_ids(*, tenant: Tenant, dept_id: int = ROOT_DEPT_ID) -> list[int]:
    """Ids of a department's direct sub-departments (not limited by an ISV's scope)."""
    return client_for(tenant).departments.list_ids(_dept_id(dept_id))


def department_list(*, tenant: Tenant, dept_id: int = ROOT_DEPT_ID, fetch_child: bool = False,
                    lang: str | None = None) -> list[Department]:
    """A department's sub-departments (the whole subtree with fetch_child), DingTalk's order.

    PROTOCOL 4.1 says ISV apps must pass fetch_child false; it is passed on as asked (the
    seed did the same), DingTalk answers within the app's scope.
    """
    if not isinstance(fetch_child, bool):
        raise DirectoryInputInvalid("fetch_child must be true or false",
                                  extra={"field": "fetch_child", "value": _shown(fetch_child)})
    return client_for(tenant).departments.list(_dept_id(dept_id), fetch_child=fetch_child,
                                               lang=_lang(lang))


def department_get(*, tenant: Tenant, dept_id: int, lang: str | None = None) -> Department:
    """One department's details."""
    return client_for(tenant).departments.get(_dept_id(dept_id), lang=_lang(lang))


def department_parent_ids(*, tenant: Tenant, dept_id: int) -> list[int]:
    """The path from a department up to the root: itself first, 1 last."""
    return client_for(tenant).departments.list_parent_depts_by_dept(_dept_id(dept_id))


def user_parent_paths(*, tenant: Tenant, userid: str) -> list[list[int]]:
    """One path to the root per department the user belongs to (each: the department first)."""
    return client_for(tenant).departments.list_parent_depts_of_user(_userid(userid))


def user_count(*, tenant: Tenant, only_active: bool = False) -> int:
    """How many users the corp has (only_active: only those who activated DingTalk)."""
    if not isinstance(only_active, bool):
        raise DirectoryInputInvalid("only_active must be true or false",
                          extra={"field": "only_active", "value": _shown(only_active)})
    return client_for(tenant).users.org_user_count(only_active=only_active)


def user_get(*, tenant: Tenant, userid: str, lang: str | None = None) -> User:
    """One user's details (an ISV's token never sees mobile or email)."""
    return client_for(tenant).users.get(_userid(userid), lang=_lang(lang))


def department_member_ids(*, tenant: Tenant, dept_id: int) -> list[str]:
    """Userids of a department's direct members, in the department's order."""
    return client_for(tenant).users.dept_member_ids(_dept_id(dept_id))


def department_members_page(*, tenant: Tenant, dept_id: int, offset: int = 0,
                            size: int = MAX_PAGE_SIZE, order: str | None = None,
                            lang: str | None = None) -> UserPage:
    """One page of a department's direct members with details (user/listbypage: DingTalk
    pages by offset, at most 100 users a page)."""
    for field, value, low, high in (("offset", offset, 0, MAX_OFFSET),
                                    ("size", size, 1, MAX_PAGE_SIZE)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PageInvalid(f"{field} must be an integer from {low} to {high}",
                              extra={"field": field, "value": _shown(value)})
    if order is not None and order not in ORDERS:
        raise PageInvalid(f"order must be one of {', '.join(ORDERS)}",
                          extra={"field": "order", "value": _shown(order)})
    return client_for(tenant).users.list_page(_dept_id(dept_id), offset=offset, size=size,
                                              order=order, lang=_lang(lang))


def userid_by_unionid(*, tenant: Tenant, unionid: str) -> UnionIdLookup:
    """The userid behind a unionid in the tenant's corp (contact_type 0 employee, 1 external)."""
    unionid = _text(unionid, field="unionid", limit=MAX_UNIONID, error=UnionidInvalid)
    return client_for(tenant).users.userid_by_unionid(unionid)


def auth_scopes_get(*, tenant: Tenant) -> AuthScopes:
    """The departments, users and user fields the tenant's token may read."""
    return client_for(tenant).auth.scopes()
