"""The REST API's one error shape: {"error": {"code", "message", "details"}}.

DRF's exception handler, set in REST_FRAMEWORK. It renders what dingsuite refused
(core.errors.ServiceError: its stable `code`), what DingTalk said no to (dingtalk.errors.ApiError:
errcode and errmsg in `details`, the HTTP status by the error's class: 404 not found, 403
permission or scope, 429 with Retry-After for rate limits and quotas, 400 invalid, 502 for
transient failures and anything else), DingTalk being unreachable (502), DRF's own errors
(validation, authentication, throttling, with their headers kept), and, for anything else, a
logged 500 without a stack trace in the response.
"""

from __future__ import annotations

import logging
import math

from django.http import JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError
from dingtalk.errors import (
    ApiError,
    InvalidRequest,
    MessageError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    TransientApiError,
    TransportError,
)

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


# DingTalk's refusals by class: (HTTP status, our code, message). The first match wins, so a
# subclass comes before its base.
_DINGTALK_CLASSES: tuple[tuple[type[ApiError], int, str, str], ...] = (
    (QuotaExceeded, 429, "dingtalk_quota_exceeded",
     "a DingTalk daily or monthly quota is used up"),
    (NotFound, 404, "dingtalk_not_found", "DingTalk has no such object"),
    (PermissionDenied, 403, "dingtalk_permission_denied",
     "the app lacks the permission or scope for this call"),
    (InvalidRequest, 400, "dingtalk_invalid_request", "DingTalk refused the request as invalid"),
    (TransientApiError, 502, "dingtalk_unavailable", "DingTalk failed; retry later"),
)
# A quota refusal gives no reset time; an hour is an honest "not soon".
_QUOTA_RETRY_AFTER_S = 3600


def _retry_after(seconds: float | None, default: float = 1.0) -> dict:
    return {"Retry-After": str(max(1, math.ceil(seconds or default)))}


def api_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, ServiceError):
        return _error(exc.code, exc.message, exc.extra, exc.http_status)
    if isinstance(exc, RateLimited):
        return _error("dingtalk_rate_limited", "DingTalk is throttling these calls; retry later",
                      _dingtalk_details(exc), status.HTTP_429_TOO_MANY_REQUESTS,
                      _retry_after(getattr(exc, "retry_after", None)))
    if isinstance(exc, ApiError):
        for cls, http_status, code, message in _DINGTALK_CLASSES:
            if isinstance(exc, cls):
                headers = (_retry_after(_QUOTA_RETRY_AFTER_S) if http_status == 429 else None)
                return _error(code, message, _dingtalk_details(exc), http_status, headers)
        return _error("dingtalk_refused", "DingTalk refused the call", _dingtalk_details(exc),
                      status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, TransportError):
        return _error("dingtalk_unavailable", "DingTalk could not be reached; retry later",
                      {"reason": type(exc).__name__}, status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, MessageError):
        return _error("message_invalid", str(exc), None, status.HTTP_400_BAD_REQUEST)
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


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """Django's 404 for URLs no view matched: the API's error shape under /api/."""
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": "no such endpoint",
                                       "details": {}}}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """Django's 500 (outside a DRF view): the API's error shape under /api/, never a trace."""
    if _wants_json(request):
        return JsonResponse({"error": {"code": "internal_error",
                                       "message": "something went wrong on our side; it has "
                                                  "been logged", "details": {}}}, status=500)
    return django_server_error(request)
