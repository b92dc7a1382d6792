"""HTTP to the new API host (api.dingtalk.com): JSON, the token in a header, HTTP-status errors.

PROTOCOL 1.2: paths `/v1.0/<area>/<resource>`, the token in `x-acs-dingtalk-access-token`,
errors as HTTP 4xx/5xx with `{"code", "message", "requestid"}` (NewApiError). Only what the
library calls is here; the old API stays in dingtalk.transport.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from dingtalk.errors import (
    ApiError,
    BadResponse,
    ConnectionFailed,
    DingTalkTimeout,
    ServerError,
    TokenError,
    new_api_error,
)
from dingtalk.repeat import is_safe_to_repeat
from dingtalk.retry import RetryPolicy
from dingtalk.tokens import Token, TokenManager
from dingtalk.transport import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Transport

logger = logging.getLogger(__name__)

DEFAULT_NEW_API_BASE_URL = "https://api.dingtalk.com"
TOKEN_HEADER = "x-acs-dingtalk-access-token"  # noqa: S105 (a header name)
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def new_api_base_url(oapi_base_url: str) -> str:
    """The new-API host that goes with an old-API base URL: api.dingtalk.com for DingTalk's own
    oapi host, the same URL otherwise (the emulator serves both APIs on one port)."""
    base = oapi_base_url.rstrip("/")
    return DEFAULT_NEW_API_BASE_URL if base == DEFAULT_BASE_URL else base


def fill(template: str, **params: Any) -> str:
    """`template` with each {name} replaced by its URL-quoted value ("/" included): always
    one path segment."""
    return _PARAM.sub(lambda m: _segment(params[m.group(0)[1:-1]]), template)


def _segment(value: Any) -> str:
    quoted = quote(str(value), safe="")
    # quote() leaves dots alone, and a segment of only dots is "." / ".." to URL parsers,
    # which would climb out of the template (urllib3 removes dot segments).
    return quoted.replace(".", "%2E") if quoted.strip(".") == "" else quoted


class NewApiTransport:
    """Sends one new-API request and returns the decoded body of a 2xx answer.

    `hooks` is an old-API Transport whose `gate` and `observe` are read at every call: the
    application sets them once there and both hosts obey (the egress budget, the metrics).
    Sharing that transport's `session` shares its connection pool.
    """

    def __init__(self, base_url: str = DEFAULT_NEW_API_BASE_URL, *,
                 timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None,
                 hooks: Transport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.hooks = hooks

    def __repr__(self) -> str:
        return f"NewApiTransport(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()

    def request(self, method: str, template: str, *, token: str,
                path_params: Mapping[str, Any] | None = None,
                params: Mapping[str, Any] | None = None, json: Any = None) -> dict[str, Any]:
        """The decoded body of a 2xx answer; NewApiError (or a TransportError) otherwise.

        `template` ("v1.0/appMarket/orders/{orderId}") names the endpoint in logs, errors,
        the gate and metrics; `path_params` fill it.
        """
        endpoint = template.strip("/")
        hooks = self.hooks
        if hooks is not None and hooks.gate is not None:
            hooks.gate(method, endpoint)
        url = f"{self.base_url}/{fill(endpoint, **(path_params or {}))}"
        headers = {TOKEN_HEADER: token, "Accept": "application/json"}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        started, outcome = time.monotonic(), "transport"
        try:
            response = self._send(method, url, endpoint, headers, query, json)
            body = self._check(method, endpoint, response)
            outcome = "0"
            return body
        except ApiError as exc:
            outcome = exc.sub_code or "error"
            raise
        finally:
            self._observed(endpoint, outcome, time.monotonic() - started)

    def _send(self, method: str, url: str, endpoint: str, headers: dict[str, str],
              query: dict[str, Any], json: Any) -> requests.Response:
        try:
            return self.session.request(method, url, params=query, json=json, headers=headers,
                                        timeout=self.timeout)
        except requests.Timeout:
            raise DingTalkTimeout(f"{method} {endpoint}: timed out", path=endpoint) from None
        except requests.RequestException as exc:
            raise ConnectionFailed(
                f"{method} {endpoint}: connection failed ({type(exc).__name__})",
                path=endpoint) from None

    def _check(self, method: str, endpoint: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if 200 <= status < 300 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            raise new_api_error(status, body, path=endpoint)
        if status >= 500:
            raise ServerError(f"{method} {endpoint}: HTTP {status}", status_code=status,
                              path=endpoint)
        raise BadResponse(f"{method} {endpoint}: HTTP {status} body is not a new-API answer",
                          status_code=status, path=endpoint)

    def _observed(self, endpoint: str, outcome: str, seconds: float) -> None:
        observe = self.hooks.observe if self.hooks is not None else None
        if observe is None:
            return
        try:
            observe(endpoint, outcome, seconds)
        except Exception:  # counting must never fail a call
            logger.warning("transport observer failed for %s", endpoint, exc_info=True)


class NewApiCaller:
    """A token in the header, retries where dingtalk.repeat says so, one retry on a stale token.

    `token` gives the cached token; `invalidate(value)` drops one DingTalk refused.
    """

    def __init__(self, transport: NewApiTransport, retry: RetryPolicy, tokens: TokenManager,
                 key: str, token: Callable[[], Token]) -> None:
        self.transport = transport
        self.retry = retry
        self.tokens = tokens
        self.key = key
        self._token = token

    def call(self, method: str, template: str, *, path_params: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None, json: Any = None) -> dict[str, Any]:
        """One call to `template` ("v1.0/appMarket/orders/{orderId}")."""
        idempotent = is_safe_to_repeat(template)
        for attempt in (1, 2):
            token = self._token()
            try:
                return self.retry.call(
                    lambda t=token.value: self.transport.request(
                        method, template, token=t, path_params=path_params, params=params,
                        json=json),
                    idempotent=idempotent)
            except TokenError:
                if attempt == 2:
                    raise
                logger.info("token refused on %s; fetching a new one", template)
                self.tokens.invalidate(self.key, token.value)
        raise AssertionError("unreachable")
