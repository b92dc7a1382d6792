"""/api/v1/ routes: webhooks (filled in by its issue part)."""

urlpatterns: list = []
