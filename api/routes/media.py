"""/api/v1/ routes: media (filled in by its issue part)."""

urlpatterns: list = []
