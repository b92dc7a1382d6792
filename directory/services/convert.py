"""DingTalk's department and user objects -> the mirror's fields: the one place both the full
sync (v2 department/get, v2 user/list and user/get) and the pushed rows (biz_type 13/14 carry
the v1 user/get and department/get objects) are converted, so both agree field by field.

Only fields third-party apps are given are read (PROTOCOL-ISV 4.1): a mobile or email in a
pushed row is never looked at. Names are optional (contact encryption): what came is stored,
nothing is invented.

Values are made storable here, whatever an answer or a signed push carries: text loses NUL and
lone surrogates (PostgreSQL and UTF-8 refuse them) and is cut to its column; a number that is
not a whole bigint (Infinity, NaN, 2**70) is absent. An id that cannot be stored as it is (a
userid past 64 characters, a department id outside a bigint) raises Unmirrorable: the row is
skipped, never stored under a mangled id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.storable import is_storable_id, storable_text

# "absent": the object did not carry the field, so the stored value is kept.
ABSENT: Any = object()

# The mirror's column sizes (directory/models.py).
MAX_USERID, MAX_UNIONID, MAX_TEXT, MAX_AVATAR = 64, 100, 255, 500
_BIGINT = 2**63


class Unmirrorable(ValueError):
    """An entity whose id the mirror cannot store as given."""


@dataclass
class DeptFields:
    """A department's mirrored fields; `parent_id` may be ABSENT (ISV v1 rows carry none)."""

    dept_id: int
    name: str
    parent_id: Any
    order: int | None
    manager_userids: list[str]


@dataclass
class UserFields:
    """A user's mirrored fields and memberships: dept_id -> (order, is_leader), where either
    may be None when the source did not say (only the walked department's page does)."""

    userid: str
    unionid: str
    name: str
    title: str
    avatar: str
    active: bool
    is_admin: bool
    is_boss: bool
    is_senior: bool | None
    memberships: dict[int, tuple[int | None, bool | None]] = field(default_factory=dict)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return storable_text(str(value), limit)


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        return None
    return number if -_BIGINT <= number < _BIGINT else None


def _key(value: Any, limit: int) -> str | None:
    """An id as stored, or None when it is not one (empty, too long, unstorable)."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value)
    return text if text and is_storable_id(text, limit) else None


def dept_key(value: Any) -> int:
    """A department id as stored (a positive bigint), else Unmirrorable."""
    number = _int(value)
    if number is None or number < 1:
        raise Unmirrorable(f"not a department id: {str(value)[:40]!r}")
    return number


def userid_key(value: Any) -> str:
    """A userid as stored (1-64 characters PostgreSQL can hold), else Unmirrorable."""
    key = _key(value, MAX_USERID)
    if key is None:
        raise Unmirrorable(f"not a storable userid: {str(value)[:40]!r}")
    return key


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _list(values: Any) -> list | tuple:
    return values if isinstance(values, list | tuple) else ()


def _ids(values: Any) -> list[int]:
    if not isinstance(values, list | tuple):
        return []
    out: dict[int, None] = {}  # ordered and linear: a row may name thousands
    for value in values:
        number = _int(value)
        if number is not None and number > 0:
            out[number] = None
    return list(out)


def _userids(values: Any) -> list[str]:
    if isinstance(values, str):
        values = values.split("|")
    if not isinstance(values, list | tuple):
        return []
    return [key for key in (_key(v, MAX_USERID) for v in values) if key is not None]


_PAIR = re.compile(r"(-?\d+)\s*:\s*(true|false|-?\d+)", re.IGNORECASE)


def dept_map(text: Any) -> dict[int, str]:
    """v1's "{deptId:value,...}" strings (orderInDepts, isLeaderInDepts); a dict or JSON
    text is read too. Values come back as text ("12", "true")."""
    if isinstance(text, Mapping):
        return {_int(k): str(v).lower() for k, v in text.items() if _int(k) is not None}
    if not isinstance(text, str):
        return {}
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json reads
        loaded = None
    if isinstance(loaded, dict):
        return dept_map(loaded)
    return {_int(k): v.lower() for k, v in _PAIR.findall(text) if _int(k) is not None}


def dept_from_v2(d: Mapping[str, Any]) -> DeptFields:
    """topapi/v2/department/get's result."""
    return DeptFields(dept_id=dept_key(d.get("dept_id")), name=_text(d.get("name")),
                      parent_id=_int(d.get("parent_id")), order=_int(d.get("order")),
                      manager_userids=_userids(d.get("dept_manager_userid_list")))


def dept_from_v1(d: Mapping[str, Any], *, dept_id: int | None = None) -> DeptFields:
    """v1 department/get's object (biz_type 14's biz_data); ISV rows carry no parentid."""
    parent = _int(d.get("parentid")) if "parentid" in d else ABSENT
    return DeptFields(dept_id=dept_key(d.get("id") or dept_id), name=_text(d.get("name")),
                      parent_id=parent, order=_int(d.get("order")),
                      manager_userids=_userids(d.get("deptManagerUseridList")))


def _user(d: Mapping[str, Any], *, title: Any, admin: Any, boss: Any, senior: Any,
          memberships: dict[int, tuple[int | None, bool | None]]) -> UserFields:
    return UserFields(userid=userid_key(d.get("userid")),
                      unionid=_key(d.get("unionid"), MAX_UNIONID) or "",
                      name=_text(d.get("name")), title=_text(title),
                      avatar=_text(d.get("avatar"), MAX_AVATAR), active=_bool(d.get("active")),
                      is_admin=_bool(admin), is_boss=_bool(boss),
                      is_senior=None if senior is None else _bool(senior),
                      memberships=memberships)


def user_from_v2_list(d: Mapping[str, Any], *, dept_id: int) -> UserFields:
    """A topapi/v2/user/list row of department `dept_id`: that department's order and leader
    flag are known, the user's other departments only by id."""
    memberships: dict[int, tuple[int | None, bool | None]] = {
        d_id: (None, None) for d_id in _ids(d.get("dept_id_list"))}
    memberships[dept_id] = (_int(d.get("dept_order")), _bool(d.get("leader")))
    return _user(d, title=d.get("title"), admin=d.get("admin"), boss=d.get("boss"),
                 senior=d.get("senior"), memberships=memberships)


def user_from_v2_get(d: Mapping[str, Any]) -> UserFields:
    """topapi/v2/user/get's result: every membership with its order and leader flag."""
    orders = {_int(o.get("dept_id")): _int(o.get("order")) for o in _list(d.get("dept_order_list"))
              if isinstance(o, Mapping)}
    leaders = {_int(o.get("dept_id")): _bool(o.get("leader"))
               for o in _list(d.get("leader_in_dept")) if isinstance(o, Mapping)}
    memberships = {d_id: (orders.get(d_id), leaders.get(d_id, False))
                   for d_id in _ids(d.get("dept_id_list"))}
    return _user(d, title=d.get("title"), admin=d.get("admin"), boss=d.get("boss"),
                 senior=d.get("senior"), memberships=memberships)


def user_from_v1(d: Mapping[str, Any]) -> UserFields:
    """v1 user/get's object (biz_type 13's biz_data): orderInDepts and isLeaderInDepts are
    "{deptId:value}" strings."""
    orders = dept_map(d.get("orderInDepts"))
    leaders = dept_map(d.get("isLeaderInDepts"))
    memberships = {d_id: (_int(orders.get(d_id)), leaders.get(d_id) == "true")
                   for d_id in _ids(d.get("department"))}
    return _user(d, title=d.get("position"), admin=d.get("isAdmin"), boss=d.get("isBoss"),
                 senior=d.get("isSenior"), memberships=memberships)
