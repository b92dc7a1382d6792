"""/api/v1/ routes of the jsapi area: dd.config signatures for a tenant's H5 pages."""

from django.urls import path

from api.views import jsapi

urlpatterns = [
    path("tenants/<str:corp_id>/jsapi-config", jsapi.JsapiConfigApi.as_view(),
         name="jsapi-config"),
]
