"""URL routes: the admin, the REST API, DingTalk's callbacks and the health checks."""

from django.contrib import admin
from django.urls import include, path

from config.health import healthz, readyz
from config.metrics_view import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics),
    path("", include("api.urls")),
    path("", include("tenants.urls")),
    path("", include("identity.urls")),
]

handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
