"""The REST API's one error shape: {"error": {"code", "message", "details"}}.

DRF's exception handler, set in REST_FRAMEWORK. It renders what dingsuite refused
(core.errors.ServiceError: its stable `code`), what DingTalk said no to (dingtalk.errors.ApiError:
errcode and errmsg in `details`), DingTalk being unreachable, DRF's own errors (validation,
authentication, throttling, with their headers kept), and, for anything else, a logged 500
without a stack trace in the response.
"""

from __future__ import annotations

import logging

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError
from dingtalk.errors import ApiError, RateLimited, TransportError

logger = logging.getLogger("api.errors")


def _error(code: str, message: str, details: dict | list | None, http_status: int,
           headers: dict | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(body, status=http_status, headers=headers)


def _dingtalk_details(exc: ApiError) -> dict:
    details = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    for name in ("sub_code", "sub_msg", "request_id"):
        value = getattr(exc, name, None)
        if value:
            details[name] = value
    return details


def api_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, ServiceError):
        return _error(exc.code, exc.message, exc.extra, exc.http_status)
    if isinstance(exc, RateLimited):
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(int(retry_after))} if retry_after else None
        return _error("dingtalk_rate_limited", "DingTalk is throttling these calls; retry later",
                      _dingtalk_details(exc), status.HTTP_429_TOO_MANY_REQUESTS, headers)
    if isinstance(exc, ApiError):
        return _error("dingtalk_refused", "DingTalk refused the call", _dingtalk_details(exc),
                      status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, TransportError):
        return _error("dingtalk_unavailable", "DingTalk could not be reached; retry later",
                      {"reason": type(exc).__name__}, status.HTTP_503_SERVICE_UNAVAILABLE)
    response = drf_exception_handler(exc, context)
    if response is not None:
        code = getattr(exc, "default_code", "invalid")
        detail = response.data if isinstance(response.data, dict | list) else {}
        message = detail.pop("detail", None) if isinstance(detail, dict) else None
        body = {"code": str(getattr(message, "code", code)),
                "message": str(message or getattr(exc, "default_detail", "request refused")),
                "details": detail if detail else {}}
        response.data = {"error": body}
        return response
    logger.exception("unhandled error in %s", type(context.get("view")).__name__)
    return _error("internal_error", "something went wrong on our side; it has been logged",
                  None, status.HTTP_500_INTERNAL_SERVER_ERROR)
