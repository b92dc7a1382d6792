"""HTTP to the DingTalk oapi host: one pooled session, explicit timeouts, errcode checking."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from dingtalk.errors import (
    ApiError,
    BadResponse,
    ConnectionFailed,
    DingTalkTimeout,
    ServerError,
    error_for,
    is_ip_ban,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://oapi.dingtalk.com"
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds


_SECRET_QUERY = re.compile(
    r"((?:suite_)?access_token|signature|appsecret|corpsecret|suiteTicket)=[^&\s\"']*"
)


class _RedactQuery(logging.Filter):
    """urllib3 logs every request line, query string included, at DEBUG: mask the secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1=***", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def _install_redaction() -> None:
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQuery) for f in pool_logger.filters):
        pool_logger.addFilter(_RedactQuery())


_install_redaction()


def _safe_path(path: str) -> str:
    # The query string carries access_token / signature: never log or raise it.
    return path.split("?", 1)[0]


def _query_value(value: Any) -> Any:
    # DingTalk expects JSON-style booleans in the query (fetch_child=false), not "False".
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class Transport:
    """Sends one request to DingTalk and returns the decoded body of a successful answer.

    Thread-safe: the session's connection pool holds `pool_size` connections per host.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        pool_size: int = 32,
        session: requests.Session | None = None,
        gate: Callable[[str, str], None] | None = None,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Called as observe(path, errcode, seconds) after every request that left: errcode "0"
        # for success, DingTalk's errcode (or its new-API code) for a refusal, "transport" when
        # no usable answer came. The application counts calls there (metrics); it never raises.
        self.observe = observe
        # Called as gate(method, path) before every request, token fetches included; it may
        # raise (EgressLimited) to keep the call from leaving. The application sets it (a
        # shared egress budget across processes: messaging/limiter/egress.py).
        self.gate = gate
        self.timeout = timeout
        self._owns_session = session is None
        self.session = session if session is not None else self._new_session(pool_size)

    @staticmethod
    def _new_session(pool_size: int) -> requests.Session:
        session = requests.Session()
        # Retries belong to RetryPolicy, which knows whether the call is idempotent.
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["Accept"] = "application/json"
        return session

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The decoded body when DingTalk says errcode 0 (or gives none on a 2xx JSON object).

        `files` (requests' form: {"media": (filename, bytes, content_type)}) sends a multipart
        body instead of JSON (media/upload).

        Raises a TransportError subclass when there is no usable answer and an ApiError
        subclass when DingTalk answered with an error.
        """
        safe = _safe_path(path)
        if self.gate is not None:
            self.gate(method, safe)
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        started = time.monotonic()
        outcome = "transport"
        try:
            response = self._send(method, url, safe, query, json, files)
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.debug("%s %s -> HTTP %s in %.0f ms", method, safe, response.status_code,
                         elapsed_ms)
            body = self._check(method, safe, response)
            outcome = "0"
            return body
        except ApiError as exc:
            outcome = str(exc.errcode if exc.errcode is not None else exc.sub_code or "error")
            raise
        finally:
            self._observed(safe, outcome, time.monotonic() - started)

    def _observed(self, path: str, outcome: str, seconds: float) -> None:
        observe = self.observe
        if observe is None:
            return
        try:
            observe(path, outcome, seconds)
        except Exception:  # counting must never fail a call
            logger.warning("transport observer failed for %s", path, exc_info=True)

    def _send(self, method: str, url: str, safe: str, query: dict[str, Any],
              json: Any, files: Mapping[str, Any] | None = None) -> requests.Response:
        try:
            return self.session.request(method, url, params=query, json=json, files=files,
                                        timeout=self.timeout)
        except requests.Timeout:
            # `from None`: requests' own message contains the full URL with the token.
            raise DingTalkTimeout(f"{method} {safe}: timed out", path=safe) from None
        except requests.RequestException as exc:
            raise ConnectionFailed(
                f"{method} {safe}: connection failed ({type(exc).__name__})", path=safe
            ) from None

    def _check(self, method: str, safe: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status >= 500:
            raise ServerError(f"{method} {safe}: HTTP {status}", status_code=status, path=safe)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BadResponse(f"{method} {safe}: HTTP {status} body is not a JSON object",
                              status_code=status, path=safe)
        if is_ip_ban(body):
            logger.warning("%s %s: DingTalk banned this IP (wait=%s)", method, safe,
                           body.get("wait"))
            raise error_for(body, http_status=status, path=safe)
        errcode = body.get("errcode")
        ok = errcode is None or _is_zero(errcode)
        if ok and 200 <= status < 300:
            return body
        raise error_for(body, http_status=status, path=safe)


def _is_zero(errcode: Any) -> bool:
    try:
        return int(errcode) == 0
    except (TypeError, ValueError):
        return False
