"""Small result dataclasses; DingTalk's wire names (camelCase, odd spellings) end here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in values or ())


def _strs(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


@dataclass(frozen=True)
class Department:
    """A department as list/get answer it (v1 and v2 alike)."""

    id: int
    name: str
    parent_id: int | None = None
    order: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_v1(cls, d: Mapping[str, Any]) -> Department:
        return cls(id=int(d["id"]), name=str(d.get("name", "")),
                   parent_id=_int_or_none(d.get("parentid")),
                   order=_int_or_none(d.get("order")), raw=dict(d))

    @classmethod
    def from_v2(cls, d: Mapping[str, Any]) -> Department:
        return cls(id=int(d["dept_id"]), name=str(d.get("name", "")),
                   parent_id=_int_or_none(d.get("parent_id")),
                   order=_int_or_none(d.get("order")), raw=dict(d))


@dataclass(frozen=True)
class User:
    """A user from v1 user/get, listbypage, or v2 user get/list. ISV tokens see no mobile/email."""

    userid: str
    name: str
    unionid: str | None = None
    dept_ids: tuple[int, ...] = ()
    active: bool | None = None
    admin: bool | None = None
    boss: bool | None = None
    title: str | None = None
    job_number: str | None = None
    avatar: str | None = None
    mobile: str | None = None
    email: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_v1(cls, d: Mapping[str, Any]) -> User:
        return cls(userid=str(d["userid"]), name=str(d.get("name", "")),
                   unionid=d.get("unionid"), dept_ids=_ints(d.get("department")),
                   active=d.get("active"), admin=d.get("isAdmin"), boss=d.get("isBoss"),
                   title=d.get("position"), job_number=d.get("jobnumber"),
                   avatar=d.get("avatar"), mobile=d.get("mobile"), email=d.get("email"),
                   raw=dict(d))

    @classmethod
    def from_v2(cls, d: Mapping[str, Any]) -> User:
        return cls(userid=str(d["userid"]), name=str(d.get("name", "")),
                   unionid=d.get("unionid"), dept_ids=_ints(d.get("dept_id_list")),
                   active=d.get("active"), admin=d.get("admin"), boss=d.get("boss"),
                   title=d.get("title"), job_number=d.get("job_number"),
                   avatar=d.get("avatar"), mobile=d.get("mobile"), email=d.get("email"),
                   raw=dict(d))


@dataclass(frozen=True)
class UserPage:
    """One page of users: offset pages (v1 listbypage) or cursor pages (v2 user list)."""

    users: tuple[User, ...]
    has_more: bool
    next_cursor: int | None = None


@dataclass(frozen=True)
class UnionIdLookup:
    """Who a unionid is in this corp; contact_type 0 = employee, 1 = external contact."""

    userid: str
    contact_type: int | None = None


@dataclass(frozen=True)
class SsoUser:
    """Who an SSO auth code belongs to (topapi/v2/user/getuserinfo or legacy user/getuserinfo).

    sys_level: 1 main admin, 2 sub-admin, 100 boss, 0 other (PROTOCOL-ISV 1.2). The legacy
    form carries no unionid (""), and some SDKs type its sys_level as a String.
    """

    userid: str
    unionid: str
    name: str
    is_admin: bool
    sys_level: int
    device_id: str = ""
    associated_unionid: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_v2(cls, r: Mapping[str, Any]) -> SsoUser:
        return cls(userid=str(r["userid"]), unionid=str(r.get("unionid") or ""),
                   name=str(r.get("name") or ""), is_admin=bool(r.get("sys")),
                   sys_level=int(r.get("sys_level") or 0),
                   device_id=str(r.get("device_id") or ""),
                   associated_unionid=str(r.get("associated_unionid") or ""), raw=dict(r))

    @classmethod
    def from_legacy(cls, r: Mapping[str, Any]) -> SsoUser:
        return cls(userid=str(r["userid"]), unionid=str(r.get("unionid") or ""),
                   name=str(r.get("name") or ""), is_admin=bool(r.get("is_sys")),
                   sys_level=int(r.get("sys_level") or 0),
                   device_id=str(r.get("deviceId") or ""), raw=dict(r))


@dataclass(frozen=True)
class AuthScopes:
    """What the token may read (auth/scopes)."""

    authed_dept_ids: tuple[int, ...]
    authed_userids: tuple[str, ...]
    user_fields: tuple[str, ...]
    condition_fields: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuthScopes:
        org = body.get("auth_org_scopes") or {}
        return cls(authed_dept_ids=_ints(org.get("authed_dept")),
                   authed_userids=_strs(org.get("authed_user")),
                   user_fields=_strs(body.get("auth_user_field")),
                   condition_fields=_strs(body.get("condition_field")), raw=dict(body))


@dataclass(frozen=True)
class SendTask:
    """The answer to a work-notice send: delivery happens later, under this task id."""

    task_id: int
    request_id: str | None = None


@dataclass(frozen=True)
class SendProgress:
    """getsendprogress: status 0 not started, 1 processing, 2 done."""

    percent: int
    status: int

    @property
    def done(self) -> bool:
        return self.status == 2


@dataclass(frozen=True)
class ForbiddenRecipient:
    """A recipient DingTalk filtered out, with the quota code (143105, 143106, ...)."""

    userid: str
    code: str
    count: int | None = None


@dataclass(frozen=True)
class SendResult:
    """getsendresult, per recipient list."""

    read_userids: tuple[str, ...] = ()
    unread_userids: tuple[str, ...] = ()
    invalid_userids: tuple[str, ...] = ()
    forbidden_userids: tuple[str, ...] = ()
    failed_userids: tuple[str, ...] = ()
    invalid_dept_ids: tuple[int, ...] = ()
    forbidden: tuple[ForbiddenRecipient, ...] = ()

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SendResult:
        r = body.get("send_result") or {}
        forbidden = tuple(
            ForbiddenRecipient(userid=str(f.get("userid", "")), code=str(f.get("code", "")),
                               count=_int_or_none(f.get("count")))
            for f in r.get("forbidden_list") or ()
        )
        return cls(read_userids=_strs(r.get("read_user_id_list")),
                   unread_userids=_strs(r.get("unread_user_id_list")),
                   invalid_userids=_strs(r.get("invalid_user_id_list")),
                   forbidden_userids=_strs(r.get("forbidden_user_id_list")),
                   failed_userids=_strs(r.get("failed_user_id_list")),
                   invalid_dept_ids=_ints(r.get("invalid_dept_id_list")), forbidden=forbidden)


@dataclass(frozen=True)
class Chat:
    """A group chat (chat/create and chat/get)."""

    chat_id: str
    name: str | None = None
    owner: str | None = None
    userids: tuple[str, ...] = ()
    open_conversation_id: str | None = None
    conversation_tag: int | None = None
    status: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> Chat:
        return cls(chat_id=str(info.get("chatid", "")), name=info.get("name"),
                   owner=info.get("owner"), userids=_strs(info.get("useridlist")),
                   open_conversation_id=info.get("openConversationId"),
                   conversation_tag=_int_or_none(info.get("conversationTag")),
                   status=_int_or_none(info.get("status")), raw=dict(info))


@dataclass(frozen=True)
class ReadListPage:
    """One page of chat/getReadList; next_cursor None means the end."""

    userids: tuple[str, ...]
    next_cursor: int | None
