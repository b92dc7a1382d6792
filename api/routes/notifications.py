"""/api/v1/ routes: notifications (filled in by its issue part)."""

urlpatterns: list = []
