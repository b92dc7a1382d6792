"""The authenticated caller every resource group talks through, and the resource base class."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dingtalk.errors import BadResponse, TokenError
from dingtalk.repeat import is_safe_to_repeat
from dingtalk.retry import RetryPolicy
from dingtalk.tokens import Token, TokenManager
from dingtalk.transport import Transport

logger = logging.getLogger(__name__)


class AuthedCaller:
    """Puts a cached token in the query, retries what is safe, and recovers from a stale token.

    What is safe to retry comes from dingtalk.repeat's table unless the call says so itself.
    A token error means DingTalk refused the call before doing anything, so even a send is
    repeated once with a fresh token; a second token error goes to the caller.
    """

    def __init__(
        self,
        transport: Transport,
        retry: RetryPolicy,
        tokens: TokenManager,
        key: str,
        fetch: Callable[[], Token],
        *,
        token_param: str = "access_token",  # noqa: S107 (a parameter name)
    ) -> None:
        self.transport = transport
        self.retry = retry
        self.tokens = tokens
        self.key = key
        self._fetch = fetch
        self._token_param = token_param
        # Called as gate(method, path) before every attempt of an authenticated call (not the
        # token fetch): the application counts calls per tenant there and may refuse one by
        # raising (a monthly call budget: tenants/services/call_budget.py).
        self.gate: Callable[[str, str], None] | None = None

    def token(self) -> Token:
        """The current token (fetched once, under the store's lock, when missing or stale)."""
        return self.tokens.get(self.key, self._fetch_with_retry)

    def _fetch_with_retry(self) -> Token:
        # Every token endpoint (gettoken, get_suite_token, get_corp_token) is SAFE in
        # dingtalk.repeat; test_repeat checks the flag recorded here against the table.
        return self.retry.call(self._fetch, idempotent=True)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        """A GET: parameters in the query."""
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any] | None = None, *,
             params: Mapping[str, Any] | None = None) -> dict:
        """A POST with a JSON body."""
        return self.call("POST", path, params=params, json=dict(body or {}))

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             json: Any = None, idempotent: bool | None = None,
             files: Mapping[str, Any] | None = None) -> dict:
        """One call; `idempotent` None means dingtalk.repeat's rule for the path (an endpoint
        it does not know is not retried). `files` makes the body multipart instead of JSON."""
        if idempotent is None:
            idempotent = is_safe_to_repeat(path)
        # Only an upload passes files: transports without the keyword keep working for JSON.
        body: dict[str, Any] = {"json": json} if files is None else {"files": files}
        def send(query: dict[str, Any]) -> dict:
            if self.gate is not None:
                self.gate(method, path)
            return self.transport.request(method, path, params=query, **body)

        for attempt in (1, 2):
            token = self.token()
            query = {k: v for k, v in (params or {}).items() if v is not None}
            query[self._token_param] = token.value
            try:
                return self.retry.call(lambda q=query: send(q), idempotent=idempotent)
            except TokenError:
                if attempt == 2:
                    raise
                logger.info("token refused on %s; fetching a new one", path)
                self.tokens.invalidate(self.key, token.value)
        raise AssertionError("unreachable")


class Resource:
    """A group of endpoints sharing one caller (`client.users`, `client.chats`, ...)."""

    def __init__(self, caller: AuthedCaller) -> None:
        self._caller = caller

    def _get(self, path: str, **params: Any) -> dict:
        return self._caller.get(path, params)

    def _post(self, path: str, body: Mapping[str, Any]) -> dict:
        """A POST without its None members; retried only if dingtalk.repeat says it is safe
        (reads yes; sends, creates, recalls never blindly)."""
        return self._caller.post(path, _drop_none(body))

    def _upload(self, path: str, files: Mapping[str, Any], **params: Any) -> dict:
        """A multipart POST (parameters in the query); retried only if dingtalk.repeat says so."""
        return self._caller.call("POST", path, params=params, files=files)


def _drop_none(body: Mapping[str, Any]) -> dict:
    return {k: v for k, v in body.items() if v is not None}


def required(body: Mapping[str, Any], key: str, path: str) -> Any:
    """`body[key]` of a successful answer; BadResponse (not a KeyError) when DingTalk left it out.

    For sends the answer came after DingTalk accepted the call: the caller must treat this like
    a timeout (maybe sent), which BadResponse, a TransportError, already means.
    """
    value = body.get(key)
    if value is None:
        raise BadResponse(f"{path}: successful answer has no {key}", status_code=200, path=path)
    return value


def result(body: Mapping[str, Any]) -> Any:
    """The `result` member of a topapi v2 answer."""
    return body.get("result", {})
