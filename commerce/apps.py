"""The commerce app: market orders and each tenant's entitlement (STYLE.md "The shape":
beside messaging and identity, above directory)."""

from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Commerce"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commerce import receivers
        from tenants import signals
        from tenants.event_receivers import receive

        # The inbox hands these kinds to the ledger, under its claim and retry machinery.
        for kind, receiver in receivers.EVENT_RECEIVERS.items():
            receive(kind, receiver)
        signals.tenant_authorized.connect(receivers.on_tenant_authorized,
                                          dispatch_uid="commerce.tenant_authorized")
