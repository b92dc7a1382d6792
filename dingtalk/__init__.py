"""dingtalk: a plain-Python DingTalk server-API library (no Django) and its emulator."""

from __future__ import annotations

import importlib
from typing import Any

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.errors import (
    ApiError,
    BadResponse,
    CallbackDecryptError,
    CallbackError,
    CallbackSignatureError,
    ConnectionFailed,
    DingTalkError,
    DingTalkTimeout,
    InvalidRequest,
    MessageError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    ServerError,
    SignatureError,
    TokenError,
    TransientApiError,
    TransportError,
    error_for,
)
from dingtalk.events import Event, parse_callback

# The client side is imported on first use: the emulator imports dingtalk.crypto and the error
# codes, and must neither pay for nor be coupled to credentials, tokens, transport or the client
# (tests/emulator/test_imports.py checks that importing it loads none of them).
_LAZY = {
    "AppCredentials": "dingtalk.credentials",
    "CorpSecretCredentials": "dingtalk.credentials",
    "IsvCorpCredentials": "dingtalk.credentials",
    "SuiteCredentials": "dingtalk.credentials",
    "RetryPolicy": "dingtalk.retry",
    "InMemoryTokenStore": "dingtalk.tokens",
    "Token": "dingtalk.tokens",
    "TokenManager": "dingtalk.tokens",
    "TokenStore": "dingtalk.tokens",
    "DEFAULT_BASE_URL": "dingtalk.transport",
    "Transport": "dingtalk.transport",
    "DingTalkClient": "dingtalk.client",
    "SuiteApi": "dingtalk.isv",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dingtalk' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)


__all__ = [
    "CREATE_SUITE_KEY",
    "DEFAULT_BASE_URL",
    "ApiError",
    "AppCredentials",
    "BadResponse",
    "CallbackCrypto",
    "CallbackDecryptError",
    "CallbackError",
    "CallbackSignatureError",
    "ConnectionFailed",
    "CorpSecretCredentials",
    "DingTalkClient",
    "DingTalkError",
    "DingTalkTimeout",
    "Event",
    "InMemoryTokenStore",
    "InvalidRequest",
    "IsvCorpCredentials",
    "MessageError",
    "NotFound",
    "PermissionDenied",
    "QuotaExceeded",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SignatureError",
    "SuiteApi",
    "SuiteCredentials",
    "Token",
    "TokenError",
    "TokenManager",
    "TokenStore",
    "TransientApiError",
    "Transport",
    "TransportError",
    "error_for",
    "parse_callback",
]
