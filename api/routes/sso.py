"""/api/v1/sso/ routes."""

from django.urls import path

from api.views import sso

urlpatterns = [
    path("sso/user", sso.SsoUserApi.as_view(), name="sso-user"),
    path("sso/admin/redeem", sso.SsoAdminRedeemApi.as_view(), name="sso-admin-redeem"),
]
