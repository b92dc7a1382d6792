"""/api/v1/ routes: a tenant's work notifications."""

from django.urls import path

from api.views import notifications

_BASE = "tenants/<str:corp_id>/notifications/"

urlpatterns = [
    path(_BASE, notifications.NotificationListCreateApi.as_view(), name="notification-list"),
    path(f"{_BASE}<int:notification_id>/", notifications.NotificationDetailApi.as_view(),
         name="notification-detail"),
    path(f"{_BASE}<int:notification_id>/recipients/",
         notifications.NotificationRecipientsApi.as_view(), name="notification-recipients"),
    path(f"{_BASE}<int:notification_id>/recall/", notifications.NotificationRecallApi.as_view(),
         name="notification-recall"),
    path(f"{_BASE}<int:notification_id>/cancel/", notifications.NotificationCancelApi.as_view(),
         name="notification-cancel"),
]
