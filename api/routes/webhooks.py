"""/api/v1/webhooks/ routes: endpoints, and each endpoint's deliveries."""

from django.urls import path

from api.views import webhooks, webhooks_deliveries

urlpatterns = [
    path("webhooks/", webhooks.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<int:endpoint_id>/", webhooks.WebhookDetailApi.as_view(),
         name="webhook-detail"),
    path("webhooks/<int:endpoint_id>/rotate-secret/", webhooks.WebhookSecretRotateApi.as_view(),
         name="webhook-rotate-secret"),
    path("webhooks/<int:endpoint_id>/deliveries/",
         webhooks_deliveries.WebhookDeliveryListApi.as_view(), name="webhook-delivery-list"),
    path("webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/",
         webhooks_deliveries.WebhookDeliveryDetailApi.as_view(), name="webhook-delivery-detail"),
    path("webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
         webhooks_deliveries.WebhookDeliveryRedeliverApi.as_view(),
         name="webhook-delivery-redeliver"),
]
