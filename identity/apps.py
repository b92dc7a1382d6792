"""The identity app: above directory, beside messaging (STYLE.md "The shape")."""

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity import receivers
        from tenants import signals

        signals.tenant_relieved.connect(receivers.on_tenant_relieved,
                                        dispatch_uid="identity.relieved")
