"""The emulator's in-memory world, guarded by one re-entrant lock (`State.lock`)."""

import random
import secrets
import threading

from .clock import Clock
from .config import EmulatorConfig
from .generator import generate_corp
from .models import (
    DEFAULT_AUTH_USER_FIELD,
    ROOT_DEPT_ID,
    App,
    AuthRecord,
    Chat,
    ChatMessage,
    Corp,
    IsvCorp,
    Media,
    SsoAdminCode,
    SsoCode,
    Suite,
    TmpAuthCode,
    Token,
)

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# The benchmarks use 5,000 per corp; far more would only exhaust memory by mistake.
MAX_USERS = 100_000


def _random_string(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


class State:
    """Corps, apps, suites, authorisations, tokens and chats; callers hold `lock` to mutate."""

    def __init__(self, clock: Clock, config: EmulatorConfig):
        self.lock = threading.RLock()
        self.clock = clock
        self.config = config
        self.rng = random.Random(config.seed)
        self.corps: dict[str, Corp] = {}
        self.apps: dict[str, App] = {}
        self.suites: dict[str, Suite] = {}
        self.auths: dict[tuple[str, str], AuthRecord] = {}
        self.tmp_codes: dict[str, TmpAuthCode] = {}
        # Tenant-user SSO codes (handlers/sso.py); in memory only, like work-notice tasks.
        self.sso_codes: dict[str, SsoCode] = {}
        # Admin-console SSO (handlers/sso_admin.py): the ISV corps with their SSO secrets and
        # their sso tokens (kept apart from `tokens`: no corp API takes them), codes in memory.
        self.isv_corps: dict[str, IsvCorp] = {}
        self.sso_tokens: dict[str, Token] = {}
        self.sso_admin_codes: dict[str, SsoAdminCode] = {}
        self.tokens: dict[str, Token] = {}
        self.current_app_token: dict[str, str] = {}
        self.chats: dict[str, Chat] = {}
        self.chat_messages: dict[str, ChatMessage] = {}
        self.media: dict[str, Media] = {}  # by media_id; each names its corp
        self.corp_count = 0

    # ---- ids -------------------------------------------------------------------------
    def new_agent_id(self) -> int:
        return self.rng.randrange(10**8, 10**10)

    def new_app_id(self) -> int:
        return self.rng.randrange(10**4, 10**6)

    # ---- corps and apps ----------------------------------------------------------------
    def create_corp(self, *, users: int = 0, name: str | None = None,
                    corp_id: str | None = None, seed: int | None = None,
                    depts: int | None = None) -> Corp:
        if isinstance(users, bool) or not isinstance(users, int) or not 0 <= users <= MAX_USERS:
            raise ValueError(f"users must be a whole number from 0 to {MAX_USERS}")
        if depts is not None and not 1 <= depts <= MAX_USERS:
            raise ValueError(f"depts must be a whole number from 1 to {MAX_USERS}")
        with self.lock:
            if corp_id and corp_id in self.corps:
                raise ValueError(f"corp {corp_id} exists")
            self.corp_count += 1
            corp = generate_corp(seed=self.config.seed if seed is None else seed,
                                 index=self.corp_count, users=users, name=name,
                                 corp_id=corp_id, now_ms=self.clock.now_ms(), depts=depts)
            self.corps[corp.corp_id] = corp
            return corp

    def create_app(self, *, corp_id: str, name: str | None = None, appkey: str | None = None,
                   appsecret: str | None = None, agent_id: int | None = None) -> App:
        with self.lock:
            if corp_id not in self.corps:
                raise KeyError(corp_id)
            if appkey in self.apps:
                raise ValueError(f"app {appkey} exists")
            app = App(appkey=appkey or "ding" + _random_string(16).lower(),
                      appsecret=appsecret or _random_string(64), corp_id=corp_id,
                      agent_id=agent_id or self.new_agent_id(), app_id=self.new_app_id(),
                      name=name or "Internal app")
            self.apps[app.appkey] = app
            return app

    # ---- suites, tickets, authorisation ------------------------------------------------
    def create_suite(self, **fields) -> Suite:
        with self.lock:
            suite_key = fields.pop("suite_key", None) or "suite" + _random_string(16).lower()
            if suite_key in self.suites:
                raise ValueError(f"suite {suite_key} exists")
            suite = Suite(
                suite_key=suite_key,
                suite_id=fields.pop("suite_id", None) or self.rng.randrange(10**7, 10**8),
                suite_secret=fields.pop("suite_secret", None) or _random_string(64),
                token=fields.pop("token", None) or _random_string(16),
                aes_key=fields.pop("aes_key", None) or _random_string(43),
                app_id=fields.pop("app_id", None) or self.new_app_id(),
                **fields)
            self.suites[suite_key] = suite
            self.rotate_ticket(suite_key)
            return suite

    def rotate_ticket(self, suite_key: str) -> str:
        """Issue a new suite ticket; the previous one is superseded at once."""
        with self.lock:
            suite = self.suites[suite_key]
            suite.ticket = _random_string(40)
            suite.ticket_ms = self.clock.now_ms()
            return suite.ticket

    def ticket_ok(self, suite: Suite, ticket: str | None) -> bool:
        if self.config.accept_any_ticket and ticket:
            return True
        return bool(ticket) and secrets.compare_digest(str(ticket).encode(), suite.ticket.encode())

    def authorize(self, *, suite_key: str, corp_id: str, authed_dept: list[int] | None = None,
                  authed_user: list[str] | None = None, activated: bool = False,
                  admin_userid: str | None = None) -> tuple[AuthRecord, TmpAuthCode]:
        """Authorise (or re-authorise) corp_id for suite_key; returns the record and tmp code."""
        with self.lock:
            suite, corp = self.suites[suite_key], self.corps[corp_id]
            old = self.auths.get((suite_key, corp_id))
            admins = [u.userid for u in corp.users.values() if u.is_admin]
            record = AuthRecord(
                suite_key=suite_key, corp_id=corp_id,
                agent_id=old.agent_id if old else self.new_agent_id(),
                app_id=suite.app_id or (old.app_id if old else self.new_app_id()),
                permanent_code=_random_string(48), activated=activated,
                authed_dept=list(authed_dept) if authed_dept is not None else [ROOT_DEPT_ID],
                authed_user=list(authed_user or []),
                auth_user_field=list(DEFAULT_AUTH_USER_FIELD),
                admin_userid=admin_userid or (admins[0] if admins else ""),
                authorized_ms=self.clock.now_ms())
            self.auths[(suite.suite_key, corp_id)] = record
            code = TmpAuthCode(code=_random_string(32), suite_key=suite_key, corp_id=corp_id,
                               issued_ms=self.clock.now_ms())
            self.tmp_codes[code.code] = code
            return record, code

    def change_auth(self, *, suite_key: str, corp_id: str, authed_dept: list[int] | None = None,
                    authed_user: list[str] | None = None,
                    auth_user_field: list[str] | None = None) -> AuthRecord:
        with self.lock:
            record = self.active_auth(suite_key, corp_id)
            if record is None:
                raise KeyError(f"{corp_id} has not authorised {suite_key}")
            if authed_dept is not None:
                record.authed_dept = list(authed_dept)
            if authed_user is not None:
                record.authed_user = list(authed_user)
            if auth_user_field is not None:
                record.auth_user_field = list(auth_user_field)
            return record

    def relieve(self, *, suite_key: str, corp_id: str) -> AuthRecord:
        """De-authorise: the permanent code and every corp token of the suite die at once."""
        with self.lock:
            record = self.active_auth(suite_key, corp_id)
            if record is None:
                raise KeyError(f"{corp_id} has not authorised {suite_key}")
            record.status = "relieved"
            for value, token in list(self.tokens.items()):
                if token.kind == "suite_corp" and token.owner == suite_key \
                        and token.corp_id == corp_id:
                    del self.tokens[value]
            return record

    def active_auth(self, suite_key: str, corp_id: str) -> AuthRecord | None:
        record = self.auths.get((suite_key, corp_id))
        return record if record is not None and record.active else None

    # ---- tokens ----------------------------------------------------------------------
    def issue_token(self, *, kind: str, owner: str, corp_id: str | None) -> Token:
        with self.lock:
            now = self.clock.now_ms()
            token = Token(value=_random_string(32).lower(), kind=kind, owner=owner,
                          corp_id=corp_id, expires_ms=now + self.config.token_ttl_s * 1000,
                          issued_ms=now)
            self.tokens[token.value] = token
            return token

    def app_token(self, *, kind: str, owner: str, corp_id: str) -> Token:
        """gettoken semantics: the same token until expiry, and each fetch extends it."""
        with self.lock:
            now = self.clock.now_ms()
            current = self.tokens.get(self.current_app_token.get(f"{kind}:{owner}", ""))
            if current is not None and current.expires_ms > now:
                current.expires_ms = now + self.config.token_ttl_s * 1000
                return current
            token = self.issue_token(kind=kind, owner=owner, corp_id=corp_id)
            self.current_app_token[f"{kind}:{owner}"] = token.value
            return token

    def suite_corp_token(self, *, suite_key: str, corp_id: str) -> Token:
        """ISV get_corp_token: a fresh token each call; older ones live on unless configured."""
        with self.lock:
            if not self.config.keep_old_corp_tokens:
                for value, token in list(self.tokens.items()):
                    if token.kind == "suite_corp" and token.owner == suite_key \
                            and token.corp_id == corp_id:
                        del self.tokens[value]
            return self.issue_token(kind="suite_corp", owner=suite_key, corp_id=corp_id)

    def expire_tokens(self, *, corp_id: str | None = None, appkey: str | None = None,
                      suite_key: str | None = None, kind: str | None = None) -> int:
        """Force matching tokens to expire now (they then answer the expired-token errcode)."""
        with self.lock:
            now, count = self.clock.now_ms(), 0
            for token in self.tokens.values():
                if corp_id is not None and token.corp_id != corp_id:
                    continue
                if appkey is not None and token.owner != appkey:
                    continue
                if suite_key is not None and token.owner != suite_key:
                    continue
                if kind is not None and token.kind != kind:
                    continue
                if token.expires_ms > now:
                    token.expires_ms = now
                    count += 1
            return count

    # ---- chats -----------------------------------------------------------------------
    def create_chat(self, *, corp_id: str, name: str, owner: str, userids: list[str],
                    flags: dict) -> Chat:
        with self.lock:
            chat = Chat(chatid="chat" + secrets.token_hex(16), corp_id=corp_id, name=name,
                        owner=owner, userids=list(dict.fromkeys(userids)),
                        open_conversation_id="cid" + _random_string(22) + "==", flags=flags)
            self.chats[chat.chatid] = chat
            return chat

    def add_chat_message(self, *, chat: Chat, sender: str, msg: dict) -> ChatMessage:
        with self.lock:
            message = ChatMessage(message_id="msg" + _random_string(20) + "+/=", chatid=chat.chatid,
                                  sender=sender, msg=msg, sent_ms=self.clock.now_ms())
            self.chat_messages[message.message_id] = message
            return message

    def chat_readers(self, message: ChatMessage) -> list[str]:
        """Who has read a chat message: marked explicitly, or every member but the sender
        once config.chat_read_after_s emulated seconds have passed."""
        with self.lock:
            readers = list(message.read_userids)
            delay = self.config.chat_read_after_s
            if delay is not None and self.clock.now_ms() >= message.sent_ms + delay * 1000:
                chat = self.chats[message.chatid]
                readers += [u for u in chat.userids if u != message.sender and u not in readers]
            return readers
