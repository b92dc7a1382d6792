"""URL routes of the tenants app: DingTalk callbacks (suites, internal apps)."""

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("callbacks/apps/<str:app_key>/", views.app_callback, name="app_callback"),
    path("callbacks/<str:suite_key>/", views.suite_callback, name="suite_callback"),
]
