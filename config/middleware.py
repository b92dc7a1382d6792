"""Request middleware: every request gets an id (the caller's X-Request-Id when it is sane,
else a new one), carried by its log lines and answered in the X-Request-Id header."""

from __future__ import annotations

import re
import uuid

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
