"""The callback endpoints DingTalk pushes to (suites, internal apps): thin, all work in
services.callbacks and services.app_callbacks."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from tenants.errors import CallbackTooLarge, ServiceError
from tenants.services.app_callbacks import app_callback_receive
from tenants.services.callback_input import shown
from tenants.services.callbacks import callback_receive

logger = logging.getLogger("tenants.callbacks")


def _error(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status, headers=headers)
    # Every refusal is logged once, by us, with its reason (escaped): Django's request logger
    # would add a second line per push, with the raw path.
    response._has_been_logged = True
    return response


def _read_body(request: HttpRequest) -> bytes:
    """At most CALLBACK_MAX_BODY_BYTES + 1 bytes, whatever Content-Length claims."""
    limit = settings.CALLBACK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise CallbackTooLarge("callback body too large")
    return request.read(limit + 1)


def _callback(request: HttpRequest, *, key: str, who: str, receive) -> JsonResponse:
    """The shared edge of both callback routes: `receive(key, signature=...)` does the work."""
    if request.method != "POST":
        logger.warning("callback rejected %s=%s status=405 method=%s", who, shown(key),
                       shown(request.method, 16))
        return _error(405, "method_not_allowed", "use POST", Allow="POST")
    try:
        body = _read_body(request)
    except CallbackTooLarge as exc:
        logger.warning("callback rejected %s=%s status=413 code=%s (Content-Length)",
                       who, shown(key), exc.code)
        return _error(exc.http_status, exc.code, exc.message)
    except UnreadablePostError:
        # The sender hung up mid-body (or the proxy timed out): its problem, not a server error.
        logger.warning("callback rejected %s=%s status=400 code=callback_unreadable",
                       who, shown(key))
        return _error(400, "callback_unreadable", "the request body could not be read")
    try:
        reply = receive(
            key,
            signature=request.GET.get("signature") or request.GET.get("msg_signature"),
            timestamp=request.GET.get("timestamp"),
            nonce=request.GET.get("nonce"),
            body=body,
        )
    except ServiceError as exc:
        return _error(exc.http_status, exc.code, exc.message)
    except (OperationalError, InterfaceError) as exc:
        # The database is down: one line per push (not a traceback each), and DingTalk retries.
        logger.error("callback failed %s=%s status=503: database unavailable (%s)",
                     who, shown(key), type(exc).__name__)
        return _error(503, "database_unavailable", "the callback could not be stored; retry "
                      "later", **{"Retry-After": "5"})
    except Exception:
        logger.exception("callback failed %s=%s", who, shown(key))
        return _error(500, "internal_error", "the callback could not be stored; retry later")
    return JsonResponse(reply)


@csrf_exempt
def suite_callback(request: HttpRequest, suite_key: str) -> JsonResponse:
    """POST /callbacks/<suite_key>/?signature=&timestamp=&nonce= with {"encrypt": ...}."""
    return _callback(request, key=suite_key, who="suite",
                     receive=lambda key, **push: callback_receive(suite_key=key, **push))


@csrf_exempt
def app_callback(request: HttpRequest, app_key: str) -> JsonResponse:
    """POST /callbacks/apps/<appkey>/ (a corpsecret app: its corp id), as for suites."""
    return _callback(request, key=app_key, who="app",
                     receive=lambda key, **push: app_callback_receive(app_key=key, **push))
