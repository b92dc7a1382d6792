"""The beat's minute (commerce.entitlements_sweep): every timed step of the ledger, each one
bounded per run and isolated, so one failing row or tenant never stops the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from commerce.models import MarketOrder
from commerce.services.changes import renew_change_apply_overdue, renew_changes_overdue
from commerce.services.entitlements import entitlements_sweep_run
from commerce.services.inapp import in_app_finishes_due
from commerce.services.tenants import commerce_tenant_link, commerce_tenants_to_link

logger = logging.getLogger("commerce")


@dataclass
class SweepReport:
    orders_linked: int = 0  # orders that arrived before their tenant, linked now
    links_failed: int = 0  # tenants whose link raised (tried again next run)
    recomputed: int = 0  # entitlements recomputed (a boundary passed)
    failed_tenants: list[int] = field(default_factory=list)  # recompute failed: next run
    finishes_tried: int = 0  # in-app finishes retried
    changes_applied: int = 0  # renew-changes applied without their 37 open
    changes_refused: int = 0  # ... that DingTalk no longer backs
    changes_failed: int = 0  # ... whose check raised (checked again next run)
    steps_failed: int = 0  # whole steps that raised (each logged)

    @property
    def failed(self) -> int:
        """Everything that failed this run (each logged at error level, retried next run)."""
        return (self.links_failed + len(self.failed_tenants) + self.changes_failed
                + self.steps_failed)


def _links(report: SweepReport) -> None:
    for tenant in commerce_tenants_to_link():
        try:
            report.orders_linked += commerce_tenant_link(tenant=tenant)
        except Exception:  # noqa: BLE001 (one tenant's failure must not stop the others)
            logger.exception("orders of tenant %s not linked: retried next run", tenant.pk)
            report.links_failed += 1


def _renew_changes(report: SweepReport) -> None:
    for pk in renew_changes_overdue():
        try:
            status = renew_change_apply_overdue(order_pk=pk).status
        except Exception:  # noqa: BLE001 (one order's failure must not stop the others)
            logger.exception("overdue renew-change (order row %s) not settled: next run", pk)
            report.changes_failed += 1
            continue
        report.changes_applied += status == MarketOrder.Status.ACTIVE
        report.changes_refused += status == MarketOrder.Status.VERIFY_FAILED


def _entitlements(report: SweepReport) -> None:
    report.recomputed, report.failed_tenants = entitlements_sweep_run()


def _finishes(report: SweepReport) -> None:
    report.finishes_tried = in_app_finishes_due()


def commerce_sweep() -> SweepReport:
    """Run every timed step once, each isolated from the others' failures; what each did."""
    report = SweepReport()
    for step in (_links, _renew_changes, _entitlements, _finishes):
        try:
            step(report)
        except Exception:  # noqa: BLE001 (the next steps still run)
            logger.exception("commerce sweep step %s failed", step.__name__.strip("_"))
            report.steps_failed += 1
    if report.failed:
        logger.error("commerce sweep: %d failures (see above); retried next run", report.failed)
    return report
