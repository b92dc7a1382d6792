"""The commerce app: market orders and each tenant's entitlement (STYLE.md "The shape":
beside messaging and identity, above directory)."""

from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Commerce"
    default_auto_field = "django.db.models.BigAutoField"
