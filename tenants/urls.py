"""URL routes of the tenants app: DingTalk callbacks."""

urlpatterns: list = []
