"""/api/v1/ routes of the commerce area."""

urlpatterns: list = []
