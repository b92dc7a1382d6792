"""Django app config for tenants: suites, tickets, tenants, tokens and the callback inbox."""

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"
