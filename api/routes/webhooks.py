"""/api/v1/webhooks/ routes."""

from django.urls import path

from api.views import webhooks

urlpatterns = [
    path("webhooks/", webhooks.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<int:endpoint_id>/", webhooks.WebhookDetailApi.as_view(),
         name="webhook-detail"),
    path("webhooks/<int:endpoint_id>/rotate-secret/", webhooks.WebhookSecretRotateApi.as_view(),
         name="webhook-rotate-secret"),
]
