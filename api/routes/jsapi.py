"""/api/v1/ routes of the jsapi area."""

urlpatterns: list = []
