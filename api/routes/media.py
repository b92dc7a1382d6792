"""/api/v1/tenants/<corp_id>/ routes: media uploads for image, voice and file messages."""

from django.urls import path

from api.views import media as views

urlpatterns = [
    path("tenants/<str:corp_id>/media/", views.MediaUploadApi.as_view(), name="media-upload"),
]
