"""Exceptions the dingtalk library raises, and the errcode sets that pick them.

```
DingTalkError                          base of everything the library raises
├── TransportError                     no usable answer from DingTalk (retryable)
│   ├── DingTalkTimeout                connect or read timeout (alias TimeoutError_)
│   ├── ConnectionFailed               DNS, refused, reset, TLS
│   ├── ServerError                    HTTP 5xx (status_code)
│   └── BadResponse                    body is not a JSON object (status_code)
├── ApiError                           DingTalk answered with an error (errcode, errmsg,
│   │                                  request_id, sub_code, sub_msg, http_status)
│   ├── TokenError                     40014, 42001, 40001, 33001, suite-token codes, 88 (token)
│   ├── RateLimited                    90018, 90002, the 90001-90017 family, IP ban body
│   │   └── EgressLimited              refused before leaving by the caller's egress gate
│   ├── QuotaExceeded                  daily/monthly quotas (90020, 41045): retry cannot help
│   ├── TransientApiError              -1, 500, 400001
│   ├── PermissionDenied               60011, 60020, 50002, 50004, 43007, 88 (other)
│   ├── NotFound                       60003, 60121, 33012, ...
│   ├── InvalidRequest                 40035, 400002, 40003, 40009, 40031, 40056, 41029, ...
│   ├── SignatureError                 853001-853004, 40085 and the suite ticket/secret family
│   └── NewApiError                    api.dingtalk.com said HTTP 4xx/5xx {"code","message",
│       │                              "requestid"} (status, code, message; also sub_code)
│       ├── NewApiTokenError           InvalidAuthentication (a TokenError too)
│       ├── NewApiRateLimited          Throttling*, *QpsLimit*, HTTP 429 (a RateLimited too)
│       ├── NewApiQuotaExceeded        *CountLimit* (a QuotaExceeded too)
│       └── NewApiTransientError       HTTP 5xx, systemBusy, ServiceUnavailable (a
│                                      TransientApiError too: retried like -1)
├── CallbackError                      callback crypto
│   ├── CallbackSignatureError         signature mismatch
│   └── CallbackDecryptError           undecryptable, bad lengths, wrong trailing key, bad AES key
└── MessageError  (ValueError too)     a message builder refused its input before sending
```

Errcode 88 ("鉴权异常") carries the real reason in sub_code/sub_msg. The rule: it is a
TokenError when sub_code is one of the token errcodes (as text) or sub_code/sub_msg mentions a
token ("token", "access_token"); a SignatureError when sub_code is an 8530xx code or mentions a
signature; otherwise PermissionDenied.

New-API bodies (`{"code": "InvalidAuthentication", "message": ...}`) map by their string code,
which is kept in `sub_code` (errcode is None there). The new-API transport (dingtalk.newapi)
raises NewApiError and its subclasses (`new_api_error`), which also inherit the category above
so that token recovery and retries treat both APIs alike; a business refusal such as the
market's `order.not.exist` is a plain NewApiError with that `code`.
"""

from __future__ import annotations

from typing import Any

TOKEN_ERRCODES: frozenset[int] = frozenset(
    # 42009/40082/48003: the suite_access_token flavour of the same failure.
    {40014, 42001, 40001, 33001, 42009, 40082, 48003}
)
RATE_LIMIT_ERRCODES: frozenset[int] = frozenset(
    # 41046-41048: per-minute send caps, cleared by waiting like the 9000x throttles.
    set(range(90001, 90018)) | {90018, 41046, 41047, 41048}
)
QUOTA_ERRCODES: frozenset[int] = frozenset({90020, 41045})
TRANSIENT_ERRCODES: frozenset[int] = frozenset({-1, 500, 400001})
PERMISSION_ERRCODES: frozenset[int] = frozenset(
    {60011, 60020, 50002, 50004, 43007, 50003, 50005, 41030, 48004, 40079}
)
NOT_FOUND_ERRCODES: frozenset[int] = frozenset(
    {60003, 60121, 33012, 60111, 404, 40016, 34001, 70001, 70003, 70004, 40090}
)
INVALID_REQUEST_ERRCODES: frozenset[int] = frozenset(
    # 40007: an invalid media_id (DingTalk's global table; the emulator's notices answer it).
    {40035, 400002, 400402, 40003, 40006, 40007, 40008, 40009, 40031, 40048, 40056}
    | set(range(40068, 40071))
    | {40078, 40102, 42007, 42008, 41001, 41028, 41029, 41049, 41101}
    | set(range(41021, 41028))
    | {43001, 43002, 43003, 43004, 43005, 43009}
    | {34004, 34014, 34016, 49000, 49004, 49010, 49011, 49013, 49015}
    | {885001, 885006}
)
SIGNATURE_ERRCODES: frozenset[int] = frozenset(
    {853001, 853002, 853003, 853004, 900005, 900006}
    # The credential family: suite ticket / key / secret, corp secret, permanent code.
    | {40080, 40083, 40084, 40085, 40086, 40088, 40089, 41031}
)
AUTH_ERRCODE = 88
IP_BAN_STATUS = 1111


class DingTalkError(Exception):
    """Base of everything the dingtalk library raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling (Celery pickles errors).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[DingTalkError], args: tuple[Any, ...],
             state: dict[str, Any]) -> DingTalkError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class TransportError(DingTalkError):
    """No usable answer from DingTalk; the request may or may not have been applied."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class DingTalkTimeout(TransportError):
    """Connect or read timeout."""


TimeoutError_ = DingTalkTimeout


class ConnectionFailed(TransportError):
    """The connection could not be made or broke."""


class ServerError(TransportError):
    """HTTP 5xx."""

    def __init__(self, message: str, *, status_code: int, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.status_code = status_code


class BadResponse(TransportError):
    """The body was not a JSON object (an HTML ban page, a proxy error, truncation)."""

    def __init__(self, message: str, *, status_code: int, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.status_code = status_code


class ApiError(DingTalkError):
    """DingTalk answered, and the answer is an error (HTTP 200 with errcode != 0 included)."""

    def __init__(
        self,
        errcode: int | None,
        errmsg: str = "",
        *,
        request_id: str | None = None,
        sub_code: str | None = None,
        sub_msg: str | None = None,
        http_status: int = 200,
        path: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.request_id = request_id
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.http_status = http_status
        self.path = path
        self.body = body if body is not None else {}
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"DingTalk errcode {self.errcode}: {self.errmsg}"
        if self.sub_code or self.sub_msg:
            text += f" (sub_code {self.sub_code}: {self.sub_msg})"
        if self.http_status != 200:
            text += f" [HTTP {self.http_status}]"
        if self.path:
            text += f" on {self.path}"
        if self.request_id:
            text += f" request_id={self.request_id}"
        return text


class TokenError(ApiError):
    """The access token (or suite token) is invalid or expired: drop it, fetch anew."""


class RateLimited(ApiError):
    """Throttled; `retry_after` is DingTalk's hint in seconds when it gave one."""

    retry_after: float | None = None


class EgressLimited(RateLimited):
    """The caller's own egress budget (PROTOCOL 10: 10,000 calls per egress IP per 20 s, then a
    5-minute ban) refused the call before it left: nothing reached DingTalk. `retry_after` is
    when the budget has room."""

    def __init__(self, retry_after: float, *, path: str | None = None) -> None:
        super().__init__(None, "egress budget spent: the call was not sent", path=path)
        self.retry_after = retry_after


class QuotaExceeded(ApiError):
    """A daily or monthly quota is used up; retrying within minutes cannot help."""


class TransientApiError(ApiError):
    """DingTalk says it is busy or failed internally; a retry may succeed."""


class PermissionDenied(ApiError):
    """The app, token or IP may not do this (missing API permission, out of scope, whitelist)."""


class NotFound(ApiError):
    """The department, user, chat, agent or corp does not exist."""


class InvalidRequest(ApiError):
    """DingTalk refused the parameters."""


class SignatureError(ApiError):
    """A signature, suite ticket, key or secret was refused."""


class NewApiError(ApiError):
    """api.dingtalk.com answered HTTP 4xx/5xx; `code` is its string code (`order.not.exist`)."""

    def __init__(self, status: int, code: str, message: str = "", *,
                 request_id: str | None = None, path: str | None = None,
                 body: dict[str, Any] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(None, message, request_id=request_id, sub_code=code,
                         http_status=status, path=path, body=body)

    def _describe(self) -> str:
        text = f"DingTalk new API {self.code}: {self.message} [HTTP {self.status}]"
        if self.path:
            text += f" on {self.path}"
        if self.request_id:
            text += f" requestid={self.request_id}"
        return text


class NewApiTokenError(NewApiError, TokenError):
    """The new API refused the access token (InvalidAuthentication)."""


class NewApiRateLimited(NewApiError, RateLimited):
    """The new API throttled the call (HTTP 429, Throttling*, *QpsLimit*)."""


class NewApiQuotaExceeded(NewApiError, QuotaExceeded):
    """A new-API call quota is spent (Forbidden.AccessDenied.ApiCountLimitForOrg)."""


class NewApiTransientError(NewApiError, TransientApiError):
    """The new API failed or is busy (HTTP 5xx, systemBusy): a retry may succeed."""


class CallbackError(DingTalkError):
    """A pushed callback could not be trusted or read."""


class CallbackSignatureError(CallbackError):
    """The callback signature does not match."""


class CallbackDecryptError(CallbackError):
    """The callback payload could not be decrypted, or its trailing key is wrong."""


class MessageError(DingTalkError, ValueError):
    """A message builder refused its input before anything was sent."""


_NEW_API_CODES: dict[str, type[ApiError]] = {
    "InvalidAuthentication": TokenError,
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": RateLimited,
    "Forbidden.AccessDenied.QpsLimitForApi": RateLimited,
    "Forbidden.AccessDenied.ApiCountLimitForOrg": QuotaExceeded,
    "invalidClientIdOrSecret": SignatureError,
    "invalidSuiteKey": SignatureError,
    "invalidSuiteTicket": SignatureError,
    "orgNotExist": NotFound,
    "invalidCorpId": NotFound,
    "orgNotAuthApp": PermissionDenied,
    "invalidAuthInfo": PermissionDenied,
}

# Checked in order; errcode 88 is decided by _auth_class.
_ERRCODE_CLASSES: tuple[tuple[frozenset[int], type[ApiError]], ...] = (
    (TOKEN_ERRCODES, TokenError),
    (RATE_LIMIT_ERRCODES, RateLimited),
    (QUOTA_ERRCODES, QuotaExceeded),
    (TRANSIENT_ERRCODES, TransientApiError),
    (PERMISSION_ERRCODES, PermissionDenied),
    (NOT_FOUND_ERRCODES, NotFound),
    (INVALID_REQUEST_ERRCODES, InvalidRequest),
    (SIGNATURE_ERRCODES, SignatureError),
)


def is_ip_ban(body: dict[str, Any]) -> bool:
    """True for the anti-abuse body `{"status":1111,"wait":5,...}`, which has no errcode."""
    return "errcode" not in body and _as_int(body.get("status")) == IP_BAN_STATUS


def class_for(errcode: int | None, sub_code: str | None = None,
              sub_msg: str | None = None) -> type[ApiError] | None:
    """The ApiError subclass of an errcode, None when unknown; 88 looks at sub_code."""
    if errcode == AUTH_ERRCODE:
        return _auth_class(sub_code, sub_msg)
    return next((cls for codes, cls in _ERRCODE_CLASSES if errcode in codes), None)


def _auth_class(sub_code: str | None, sub_msg: str | None) -> type[ApiError]:
    code = (sub_code or "").strip()
    text = f"{code} {sub_msg or ''}".lower()
    if _as_int(code) in TOKEN_ERRCODES or "token" in text:
        return TokenError
    if code.startswith("8530") or "signature" in text:
        return SignatureError
    return PermissionDenied


def error_for(body: dict[str, Any], *, http_status: int = 200,
              path: str | None = None) -> ApiError:
    """Build the ApiError subclass that matches an error body."""
    context = {"http_status": http_status, "path": path, "body": body}
    if is_ip_ban(body):
        error = RateLimited(None, "IP temporarily banned", sub_code=str(IP_BAN_STATUS),
                            **context)
        wait = _as_int(body.get("wait"))
        # The ban lasts 5 minutes and the body says wait=5, so `wait` counts minutes.
        error.retry_after = float(wait * 60) if wait else None
        return error
    if "errcode" not in body and isinstance(body.get("code"), str):
        cls = _NEW_API_CODES.get(body["code"])
        return (cls or _fallback(http_status))(
            None, _as_text(body.get("message")) or "", sub_code=body["code"],
            request_id=_as_text(body.get("requestid")), **context)
    errcode = _as_int(body.get("errcode"))
    sub_code, sub_msg = _as_text(body.get("sub_code")), _as_text(body.get("sub_msg"))
    cls = class_for(errcode, sub_code, sub_msg) or _fallback(http_status)
    error = cls(errcode, _as_text(body.get("errmsg")) or "",
                request_id=_as_text(body.get("request_id")), sub_code=sub_code,
                sub_msg=sub_msg, **context)
    if isinstance(error, RateLimited) and errcode == 90018:
        # The QPS doc's advice for 90018 is to wait one second.
        error.retry_after = 1.0
    return error


# New-API string codes a retry can fix; DingTalk's docs name them, the casing varies by page.
_NEW_API_BUSY = frozenset({"systemBusy", "SystemBusy", "ServiceUnavailable", "InternalError",
                           "unknownError", "system.error", "server.error"})
_NEW_API_VARIANTS: dict[type[ApiError], type[NewApiError]] = {
    TokenError: NewApiTokenError, RateLimited: NewApiRateLimited,
    QuotaExceeded: NewApiQuotaExceeded, TransientApiError: NewApiTransientError,
}


def new_api_class(status: int, code: str) -> type[NewApiError]:
    """The NewApiError subclass of an HTTP status and new-API string code."""
    if code.startswith("Throttling") or "QpsLimit" in code or status == 429:
        return NewApiRateLimited
    if code in _NEW_API_BUSY or status >= 500:
        return NewApiTransientError
    base = _NEW_API_CODES.get(code)
    if base is None and "CountLimit" in code:
        base = QuotaExceeded
    return _NEW_API_VARIANTS.get(base, NewApiError) if base is not None else NewApiError


def new_api_error(status: int, body: dict[str, Any], *, path: str | None = None) -> NewApiError:
    """The NewApiError of a new-API error answer (`{"code","message","requestid"}`)."""
    code = _as_text(body.get("code")) or f"HTTP{status}"
    error = new_api_class(status, code)(
        status, code, _as_text(body.get("message")) or "",
        request_id=_as_text(body.get("requestid") or body.get("requestId")), path=path,
        body=body)
    if isinstance(error, RateLimited) and error.retry_after is None:
        # The QPS limits are per second (PROTOCOL 10): one second is the shortest useful wait.
        error.retry_after = 1.0
    return error


def _fallback(http_status: int) -> type[ApiError]:
    return TransientApiError if http_status >= 500 else ApiError


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)
