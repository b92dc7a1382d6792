"""The daily purge (celery beat: config.retention_purge): each app deletes what it no longer
needs, in small batches (core/purge.py), by the retention settings; the counts are logged."""

from __future__ import annotations

import logging

from config.celery import app
from core.metrics import PURGED_ROWS

logger = logging.getLogger("config.retention")


def retention_purge_all(*, batch_size: int = 1000) -> dict[str, int]:
    from api.services.retention import api_purge
    from identity.services.retention import identity_purge
    from messaging.services.retention import messaging_purge
    from tenants.services.retention import tenants_purge

    counts: dict[str, int] = {}
    for purge in (tenants_purge, messaging_purge, identity_purge, api_purge):
        counts.update(purge(batch_size=batch_size))
    for kind, n in counts.items():
        PURGED_ROWS.labels(kind=kind).inc(n)
    logger.info("retention purge: %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return counts


@app.task(name="config.retention_purge", acks_late=True)
def retention_purge() -> None:
    """Idempotent: a purge run twice deletes nothing the second time."""
    retention_purge_all()
