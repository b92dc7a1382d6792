"""/api/v1/ routes: seed (filled in by its issue part)."""

urlpatterns: list = []
