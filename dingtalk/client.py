"""DingTalkClient: one corp's (or one internal app's) door to the old oapi.dingtalk.com API."""

from __future__ import annotations

from typing import Any, Unpack

from dingtalk.api._base import AuthedCaller
from dingtalk.api.appstore import Appstore
from dingtalk.api.auth import Auth
from dingtalk.api.chats import Chats
from dingtalk.api.contacts import Contacts
from dingtalk.api.departments import Departments
from dingtalk.api.jsapi import Jsapi
from dingtalk.api.media import Media
from dingtalk.api.users import Users
from dingtalk.api.work_notices import WorkNotices
from dingtalk.connection import Connection, ConnectionOptions
from dingtalk.tokens import Token, TokenManager, TokenStore


class DingTalkClient(Connection):
    """Typed access to the DingTalk server API for one set of credentials.

    `credentials` is any object with `cache_key` and `fetch_token(transport, clock=...)`:
    AppCredentials, CorpSecretCredentials or IsvCorpCredentials. Tokens are cached in `tokens`
    (a TokenStore or a TokenManager; shared stores let many clients share one token). The
    keyword options (base_url, timeout, retry, pool_size, clock, refresh_ahead, transport)
    are Connection's.
    """

    def __init__(self, credentials: Any, tokens: TokenStore | TokenManager | None = None,
                 **options: Unpack[ConnectionOptions]) -> None:
        super().__init__(tokens, **options)
        self.credentials = credentials
        self.caller = AuthedCaller(self.transport, self.retry, self.tokens,
                                   credentials.cache_key, self._fetch_token)
        self.departments = Departments(self.caller)
        self.users = Users(self.caller)
        self.contacts = Contacts(self.caller)
        self.auth = Auth(self.caller)
        self.work_notices = WorkNotices(self.caller)
        self.chats = Chats(self.caller)
        self.media = Media(self.caller)
        self.appstore = Appstore(self.caller)
        self.jsapi = Jsapi(self.caller)

    def _fetch_token(self) -> Token:
        return self.credentials.fetch_token(self.transport, clock=self._clock)

    @property
    def cache_key(self) -> str:
        return self.credentials.cache_key

    def access_token(self) -> Token:
        """The current access token (cached; fetched when missing or about to expire)."""
        return self.caller.token()

    def request(self, method: str, path: str, *, params: dict | None = None,
                json: Any = None, idempotent: bool) -> dict:
        """An authenticated call to an endpoint without a typed method yet."""
        return self.caller.call(method, path, params=params, json=json, idempotent=idempotent)

    def __repr__(self) -> str:
        # The credentials mask their own secrets; no token value ever appears here.
        return f"DingTalkClient({self.credentials!r}, base_url={self.transport.base_url!r})"
