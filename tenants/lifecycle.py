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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules


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
        autodiscover_modules("lifecycle")
        _discovered = True
    return sorted(_PARTS.values(), key=lambda part: (part.order, part.name))
