"""The registry of what each app holds for a tenant, for the data lifecycle (PROTOCOL-ISV 5.3:
export first, then delete everything the customer's data covers, keep an audit row).

Every app that stores tenant data registers its part in a module named `lifecycle.py` at the
app's top level (found by autodiscovery, as Django's admin finds `admin.py`, so an app added
later is covered without tenants importing it):

    # directory/lifecycle.py
    from tenants.lifecycle import TenantDataPart, register
    register(TenantDataPart(name="directory", export=..., delete=...))

- `export(tenant) -> dict` returns JSON-serialisable data (no secrets in plaintext: say what
  was withheld instead).
- `delete(tenant) -> dict[str, int]` deletes the app's rows for the tenant and returns rows
  deleted per table label ("directory.User": 5000). It runs inside the caller's transaction.
- `order`: parts delete in ascending order (rows others point at go last; tenants' own is 1000).

tenants' own part (tenants/lifecycle_parts.py) is imported by `parts()` itself: autodiscovery
imports `tenants.lifecycle`, which is this module. The services that use the parts are in
tenants/services/lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet
from django.utils.module_loading import autodiscover_modules

from core.redact import redact


@dataclass(frozen=True)
class TenantDataPart:
    name: str
    export: Callable[[Any], dict[str, Any]]
    delete: Callable[[Any], dict[str, int]]
    order: int = 100


_PARTS: dict[str, TenantDataPart] = {}
_discovered = False


def register(part: TenantDataPart) -> None:
    """Add (or replace, by name) an app's part."""
    _PARTS[part.name] = part


def parts() -> list[TenantDataPart]:
    """Every registered part, in deletion order (each app's lifecycle.py imported first)."""
    global _discovered
    if not _discovered:
        import_module("tenants.lifecycle_parts")
        autodiscover_modules("lifecycle")
        _discovered = True
    return sorted(_PARTS.values(), key=lambda part: (part.order, part.name))


def delete_querysets(*querysets: QuerySet) -> dict[str, int]:
    """Delete each queryset in turn; -> rows deleted per model label, cascades included."""
    counts: dict[str, int] = {}
    for queryset in querysets:
        counts.setdefault(queryset.model._meta.label, 0)
        _, per_model = queryset.delete()
        for label, n in per_model.items():
            counts[label] = counts.get(label, 0) + n
    return counts


def tenant_models(app_label: str) -> list[tuple[type[Model], str]]:
    """(model, field name) of every concrete model of the app with a foreign key to Tenant."""
    from tenants.models import Tenant

    found = []
    for model in apps.get_app_config(app_label).get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Tenant:
                found.append((model, field.name))
    return found


def tenant_querysets(app_label: str, tenant: Any) -> list[QuerySet]:
    """The app's rows of the tenant, one queryset per model (tenant_models)."""
    return [model._default_manager.filter(**{name: tenant})
            for model, name in tenant_models(app_label)]


def export_rows(queryset: QuerySet) -> list[dict[str, Any]]:
    """Every row as a dict of its columns, secret-looking keys masked (core.redact)."""
    return [redact(row) for row in queryset.order_by("pk").values().iterator(chunk_size=2000)]


def app_part(app_label: str, *, order: int = 100,
             more: Callable[[Any], list[QuerySet]] | None = None) -> TenantDataPart:
    """A part covering every model of the app with a foreign key to Tenant, plus the querysets
    `more(tenant)` names (rows tied to the tenant otherwise, e.g. by corp id): rows exported by
    table label, deleted by queryset (an app's later tables are covered without an edit)."""

    def querysets(tenant: Any) -> list[QuerySet]:
        return tenant_querysets(app_label, tenant) + (list(more(tenant)) if more else [])

    def export(tenant: Any) -> dict[str, Any]:
        return {qs.model._meta.label: export_rows(qs) for qs in querysets(tenant)}

    def delete(tenant: Any) -> dict[str, int]:
        return delete_querysets(*querysets(tenant))

    return TenantDataPart(name=app_label, export=export, delete=delete, order=order)
