"""/api/v1/tenants/<corp_id>/ routes of the commerce area: entitlement, orders, in-app."""

from django.urls import path

from api.views import commerce as views

T = "tenants/<str:corp_id>/"

urlpatterns = [
    path(f"{T}entitlement/", views.TenantEntitlementApi.as_view(), name="tenant-entitlement"),
    path(f"{T}orders/", views.TenantOrderListApi.as_view(), name="tenant-orders"),
    path(f"{T}orders/<str:order_id>/fulfil/", views.OrderFulfilApi.as_view(),
         name="tenant-order-fulfil"),
    path(f"{T}orders/<str:order_id>/consume/", views.OrderConsumeApi.as_view(),
         name="tenant-order-consume"),
]
