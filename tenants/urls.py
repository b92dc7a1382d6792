"""URL routes of the tenants app: DingTalk callbacks."""

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("callbacks/<str:suite_key>/", views.suite_callback, name="suite_callback"),
]
