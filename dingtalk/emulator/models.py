"""The emulator's records: corps, departments, users, apps, suites, authorisations, tokens."""

from dataclasses import dataclass, field

ROOT_DEPT_ID = 1


@dataclass(slots=True)
class Department:
    id: int
    name: str
    parent_id: int | None
    order: int = 0
    create_dept_group: bool = False
    auto_add_user: bool = False
    source_identifier: str = ""
    manager_userids: list[str] = field(default_factory=list)
    hide: bool = False
    group_chat_id: str = ""


@dataclass(slots=True)
class User:
    userid: str
    unionid: str
    name: str
    depts: list[int]
    orders: dict[int, int] = field(default_factory=dict)
    leader_in: list[int] = field(default_factory=list)
    active: bool = True
    is_admin: bool = False
    is_boss: bool = False
    is_hide: bool = False
    is_senior: bool = False
    position: str = ""
    jobnumber: str = ""
    avatar: str = ""
    mobile: str = ""
    email: str = ""
    tel: str = ""
    work_place: str = ""
    remark: str = ""
    org_email: str = ""
    state_code: str = "86"
    hired_date: int | None = None
    manager_userid: str = ""
    real_authed: bool = True
    entry_ms: int = 0


@dataclass(slots=True)
class Corp:
    corp_id: str
    name: str
    corpsecret: str = field(repr=False)
    full_name: str = ""
    industry: str = ""
    logo_url: str = ""
    depts: dict[int, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    next_dept_id: int = 2
    # Derived indexes, rebuilt by reindex(); never saved.
    children: dict[int, list[int]] = field(default_factory=dict)
    members: dict[int, list[str]] = field(default_factory=dict)
    by_unionid: dict[str, str] = field(default_factory=dict)

    def reindex(self) -> None:
        self.children = {dept_id: [] for dept_id in self.depts}
        self.members = {dept_id: [] for dept_id in self.depts}
        for dept in sorted(self.depts.values(), key=lambda d: (d.order, d.id)):
            if dept.parent_id is not None and dept.parent_id in self.children:
                self.children[dept.parent_id].append(dept.id)
        for user in self.users.values():
            for dept_id in user.depts:
                self.members.setdefault(dept_id, []).append(user.userid)
        self.by_unionid = {u.unionid: u.userid for u in self.users.values()}

    def subtree(self, dept_id: int) -> list[int]:
        """dept_id and every department below it."""
        out, stack = [], [dept_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self.children.get(current, ()))
        return out

    def parents(self, dept_id: int) -> list[int]:
        """dept_id first, the root last (DingTalk's order)."""
        out = []
        current: int | None = dept_id
        while current is not None and current in self.depts and current not in out:
            out.append(current)
            current = self.depts[current].parent_id
        return out


@dataclass(slots=True)
class App:
    """An internal (企业内部) app of one corp."""

    appkey: str
    appsecret: str = field(repr=False)
    corp_id: str
    agent_id: int
    app_id: int
    name: str = "Internal app"
    state: str = "normal"


@dataclass(slots=True)
class Suite:
    """An ISV third-party app (套件)."""

    suite_key: str
    suite_id: int
    suite_secret: str = field(repr=False)
    token: str = field(repr=False)
    aes_key: str = field(repr=False)
    name: str = "ISV suite"
    callback_url: str = ""
    push_style: str = "http"  # "http" or "sync_http"
    message_api: str = "asyncsend_v2"  # or "sendbytemplate"
    templates: dict = field(default_factory=dict)
    legacy_url_check: bool = False
    ticket: str = field(default="", repr=False)
    ticket_ms: int = 0
    # The app's id inside the suite: one per suite, the same in every corp's auth info (PROTOCOL
    # 6.4 `appid`); get_unactive_corp and reauth_corp name it.
    app_id: int = 0


@dataclass(slots=True)
class AuthRecord:
    """One corp's authorisation of one suite."""

    suite_key: str
    corp_id: str
    agent_id: int
    app_id: int
    permanent_code: str = field(repr=False)
    status: str = "authorized"  # or "relieved"
    activated: bool = False
    app_state: str = "normal"  # "normal", "stopped" or "removed"
    authed_dept: list[int] = field(default_factory=lambda: [ROOT_DEPT_ID])
    authed_user: list[str] = field(default_factory=list)
    auth_user_field: list[str] = field(default_factory=list)
    admin_userid: str = ""
    authorized_ms: int = 0

    @property
    def active(self) -> bool:
        return self.status == "authorized"


@dataclass(slots=True)
class TmpAuthCode:
    code: str = field(repr=False)
    suite_key: str
    corp_id: str
    issued_ms: int
    used: bool = False


@dataclass(slots=True)
class SsoCode:
    """A tenant user's SSO code (dd.requestAuthCode, PROTOCOL-ISV 1.1): for (corp, userid),
    optionally bound to one suite or internal app; deleted on first use."""

    code: str = field(repr=False)
    corp_id: str
    userid: str
    expires_ms: int
    suite_key: str | None = None
    appkey: str | None = None


@dataclass(slots=True)
class IsvCorp:
    """The ISV's own corp as admin-console SSO knows it (PROTOCOL-ISV 1.3): its SSOSecret."""

    corp_id: str
    sso_secret: str = field(repr=False)


@dataclass(slots=True)
class SsoAdminCode:
    """An admin-console SSO code: a customer corp's admin, optionally bound to one ISV corp;
    deleted on first use."""

    code: str = field(repr=False)
    corp_id: str
    userid: str
    expires_ms: int
    isv_corp_id: str | None = None


@dataclass(slots=True)
class Token:
    value: str
    kind: str  # "app", "corpsecret", "suite_corp" or "suite"
    owner: str  # appkey, corp id (corpsecret form) or suite key
    corp_id: str | None
    expires_ms: int
    issued_ms: int

    def __repr__(self) -> str:
        return (f"Token(kind={self.kind!r}, owner={self.owner!r}, corp_id={self.corp_id!r}, "
                "value=***)")


@dataclass(slots=True)
class Chat:
    chatid: str
    corp_id: str
    name: str
    owner: str
    userids: list[str]
    open_conversation_id: str
    flags: dict = field(default_factory=dict)
    status: int = 1


@dataclass(slots=True)
class ChatMessage:
    message_id: str
    chatid: str
    sender: str
    msg: dict
    sent_ms: int
    read_userids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Media:
    """One file uploaded through media/upload: what it was, never its bytes (a digest instead)."""

    media_id: str
    corp_id: str
    type: str  # "image", "voice" or "file"
    filename: str
    size: int
    sha256: str
    content_type: str
    created_ms: int
    uploader: str  # the caller's appkey, suite key or corp id (corpsecret)


DEFAULT_AUTH_USER_FIELD = [
    "jobnumber", "isLeader", "name", "position", "isAdmin", "avatar", "department", "userid",
    "deviceId", "isHide",
]
