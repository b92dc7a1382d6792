"""/api/v1/tenants/ routes."""

from django.urls import path

from api.views import tenants

urlpatterns = [
    path("tenants/", tenants.TenantListApi.as_view(), name="tenant-list"),
    path("tenants/<str:corp_id>/", tenants.TenantDetailApi.as_view(), name="tenant-detail"),
]
