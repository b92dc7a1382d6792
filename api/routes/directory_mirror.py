"""/api/v1/ routes of the directory_mirror area."""

urlpatterns: list = []
