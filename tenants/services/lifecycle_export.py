"""Exporting everything dingsuite holds for a tenant: one dict from every registered part
(tenants/lifecycle.py), written as one JSON file, atomically, readable by its owner only."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from core import clock
from tenants.errors_lifecycle import TenantExportFailed
from tenants.lifecycle import parts
from tenants.models import Tenant

logger = logging.getLogger("tenants.lifecycle")

EXPORT_FORMAT = "dingsuite.tenant_export"
EXPORT_VERSION = 1


@dataclass(frozen=True)
class TenantExportFile:
    path: Path
    sha256: str
    size: int


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # UUIDs, Decimals


def export_dir() -> Path:
    """TENANTS_EXPORT_DIR, or <DINGSUITE_VAR_DIR>/tenant-exports."""
    return Path(settings.TENANTS_EXPORT_DIR or Path(settings.VAR_DIR) / "tenant-exports")


def export_path_for(*, tenant: Tenant) -> Path:
    """A new file name in the export directory: owner, corp id and the time."""
    owner = tenant.suite.suite_key if tenant.suite_id else f"app-{tenant.app_key_label}"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{owner}-{tenant.corp_id}")
    return export_dir() / f"{safe}-{clock.now():%Y%m%dT%H%M%S%fZ}.json"


def _collect(tenant: Tenant) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION,
        "exported_at": clock.now(), "corp_id": tenant.corp_id,
        "suite_key": tenant.suite.suite_key if tenant.suite_id else None,
        "kind": tenant.kind,
        "parts": {part.name: part.export(tenant) for part in parts()},
    }


def tenant_export(*, tenant: Tenant) -> dict[str, Any]:
    """Every part's export of the tenant (no token, secret or permanent code), read from one
    snapshot of the database where it can be."""
    tenant = Tenant.objects.select_related("suite").get(pk=tenant.pk)
    if connection.in_atomic_block:
        return _collect(tenant)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One snapshot for every part's queries: rows that move meanwhile are not torn.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _collect(tenant)


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def tenant_export_write(*, tenant: Tenant, path: Path | str) -> TenantExportFile:
    """Write the tenant's export to `path` (mode 0600, replaced atomically) and record it as
    the tenant's last export."""
    path = Path(path).absolute()
    data = tenant_export(tenant=tenant)
    # A lone surrogate (kept by an encrypted payload) cannot be UTF-8: written as its JSON
    # escape (it only occurs inside strings), the file stays valid JSON and the deletion runs.
    body = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True,
                      default=_json_default).encode("utf-8", "backslashreplace")
    digest = hashlib.sha256(body).hexdigest()
    try:
        _write_atomically(path, body)
    except OSError as exc:
        raise TenantExportFailed(f"could not write the export of {tenant.corp_id} to {path}: "
                                 f"{exc.strerror or type(exc).__name__}",
                                 extra={"corp_id": tenant.corp_id,
                                        "error": type(exc).__name__}) from exc
    Tenant.objects.filter(pk=tenant.pk).update(
        data_exported_at=data["exported_at"], data_export_path=str(path),
        data_export_sha256=digest)
    logger.info("tenant %s exported: %s (%d bytes)", tenant.corp_id, path, len(body))
    return TenantExportFile(path=path, sha256=digest, size=len(body))
