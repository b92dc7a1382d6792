"""identity's own pages outside the API (admin-console SSO lands here: /sso/admin/)."""

from django.urls import path

from identity import views

app_name = "identity"

urlpatterns = [
    path("sso/admin/", views.sso_admin_landing, name="sso_admin"),
]
