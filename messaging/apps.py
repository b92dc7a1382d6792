"""App config of the messaging app."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The limiter's model lives in its own package (messaging/limiter/models.py).
        from messaging import receivers
        from messaging.limiter import models  # noqa: F401
        from messaging.limiter.egress import egress_gate
        from tenants import signals
        from tenants.services.clients import egress_gate_set

        # Every DingTalk call this process makes takes the shared egress budget.
        egress_gate_set(egress_gate)

        signals.tenant_app_restored.connect(receivers.on_tenant_active_again,
                                            dispatch_uid="messaging.restored")
        signals.tenant_resumed.connect(receivers.on_tenant_active_again,
                                       dispatch_uid="messaging.resumed")
        signals.tenant_relieved.connect(receivers.on_tenant_relieved,
                                        dispatch_uid="messaging.relieved")
