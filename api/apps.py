"""The api app: the top layer (it may import every app; none imports it)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from api import receivers, schema  # noqa: F401  (schema registers the auth scheme)
        from commerce import signals as commerce_signals
        from directory.signals import directory_changed
        from messaging.models import Notification
        from messaging.signals import notification_finished
        from tenants import signals

        # Tenant lifecycle -> webhook events (tenants sends each after its commit).
        for name, receiver in receivers.TENANT_RECEIVERS.items():
            getattr(signals, name).connect(receiver, dispatch_uid=f"api.webhooks.{name}")
        # Finished notifications: the beat scan always; these two hear them sooner.
        notification_finished.connect(receivers.on_notification_finished,
                                      dispatch_uid="api.webhooks.notification_finished")
        post_save.connect(receivers.on_notification_saved, sender=Notification,
                          dispatch_uid="api.webhooks.notification_saved")
        # The commerce ledger: entitlement changes and paid in-app orders.
        commerce_signals.entitlement_changed.connect(
            receivers.on_entitlement_changed, dispatch_uid="api.webhooks.entitlement_changed")
        commerce_signals.order_paid.connect(receivers.on_order_paid,
                                            dispatch_uid="api.webhooks.order_paid")
        # The directory mirror: after each full sync and each applied batch of rows.
        directory_changed.connect(receivers.on_directory_changed,
                                  dispatch_uid="api.webhooks.directory_changed")
