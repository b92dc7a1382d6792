"""The API's URLs: /api/v1/ (key-authenticated), the seed's /api/dingtalkserve/ routes, and the
OpenAPI schema with Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.routes import (
    chats,
    commerce,
    directory,
    directory_mirror,
    jsapi,
    media,
    notifications,
    seed,
    sso,
    tenants,
    webhooks,
)

app_name = "api"

v1 = [*tenants.urlpatterns, *notifications.urlpatterns, *media.urlpatterns,
      *directory.urlpatterns, *chats.urlpatterns, *webhooks.urlpatterns,
      *sso.urlpatterns, *jsapi.urlpatterns, *commerce.urlpatterns,
      *directory_mirror.urlpatterns]

urlpatterns = [
    path("api/v1/", include(v1)),
    path("api/dingtalkserve/", include(seed.urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
