"""/api/v1/ routes: chats (filled in by its issue part)."""

urlpatterns: list = []
