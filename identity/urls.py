"""identity's own pages outside the API (admin-console SSO lands here: /sso/admin/)."""

urlpatterns: list = []
