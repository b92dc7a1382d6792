"""URL routes: the admin, the REST API, DingTalk's callbacks and the health check."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("", include("api.urls")),
    path("", include("tenants.urls")),
]

handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
