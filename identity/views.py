"""identity's pages outside the API: /sso/admin/, where DingTalk's admin console sends an
admin with ?code=. The browser is redirected to the product with a single-use assertion; no
session of any kind is opened here (a customer's admin is nobody in dingsuite's admin)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from core.errors import ServiceError
from identity.services.sso_admin import sso_admin_login

logger = logging.getLogger("identity.sso_admin")

_PAGE = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title>"
         "</head><body><h1>Sign-in from the DingTalk admin console failed</h1><p>{}</p>"
         "<p><code>{}</code></p></body></html>")


def _private(response: HttpResponse) -> HttpResponse:
    # The assertion rides in the Location: keep it out of caches and Referer headers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": {"code": exc.code, "message": exc.message,
                                           "details": exc.extra}}, status=exc.http_status)
    else:
        response = HttpResponse(format_html(_PAGE, exc.message, exc.code),
                                status=exc.http_status, content_type="text/html; charset=utf-8")
    return _private(response)


@require_GET
def sso_admin_landing(request: HttpRequest) -> HttpResponse:
    """GET /sso/admin/?code=...[&isv=<corpid>] -> 302 to the product's landing URL with
    ?assertion=...; a refusal is a plain 400/502 page (JSON when asked for)."""
    try:
        login = sso_admin_login(code=request.GET.get("code"), isv=request.GET.get("isv"))
    except ServiceError as exc:
        logger.info("admin-console SSO refused: %s", exc.code)
        return _error(request, exc)
    logger.info("admin-console SSO: %s of %s, assertion %s", login.record.userid,
                login.record.corp_id, login.record.pk)
    return _private(HttpResponseRedirect(login.redirect_url))
