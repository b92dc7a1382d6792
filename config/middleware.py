"""Request middleware: every request gets an id (the caller's X-Request-Id when it is sane,
else a new one), carried by its log lines and answered in the X-Request-Id header."""

from __future__ import annotations

import re
import uuid

from django.http import JsonResponse

from core import log_context

_SANE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-Id", "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        with log_context.scope(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-Id"] = request_id
        return response


class ApiJsonNotFoundMiddleware:
    """Under /api/, a 404 that no API view answered (no such path) is the API's error shape,
    also with DEBUG on, where Django answers its HTML debug page instead of handler404."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code == 404 and request.path.startswith("/api/")
                and response.get("Content-Type", "").startswith("text/html")):
            return JsonResponse({"error": {"code": "not_found", "message": "no such endpoint",
                                           "details": {}}}, status=404)
        return response
