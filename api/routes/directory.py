"""/api/v1/ routes: directory (filled in by its issue part)."""

urlpatterns: list = []
