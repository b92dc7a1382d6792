"""The beat's minute (commerce.entitlements_sweep): every timed step of the ledger, each one
bounded per run and isolated, so one failing row or tenant never stops the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from commerce.models import MarketOrder
from commerce.services.changes import renew_change_apply_overdue, renew_changes_overdue
from commerce.services.entitlements import entitlements_sweep
from commerce.services.inapp import in_app_finishes_due

logger = logging.getLogger("commerce")


@dataclass
class SweepReport:
    recomputed: int = 0  # entitlements recomputed (a boundary passed)
    finishes_tried: int = 0  # in-app finishes retried
    changes_applied: int = 0  # renew-changes applied without their 37 open
    changes_refused: int = 0  # ... that DingTalk no longer backs


def _renew_changes(report: SweepReport) -> None:
    for pk in renew_changes_overdue():
        status = renew_change_apply_overdue(order_pk=pk).status
        report.changes_applied += status == MarketOrder.Status.ACTIVE
        report.changes_refused += status == MarketOrder.Status.VERIFY_FAILED


def commerce_sweep() -> SweepReport:
    """Run every timed step once; what each did."""
    report = SweepReport()
    _renew_changes(report)
    report.recomputed = entitlements_sweep()
    report.finishes_tried = in_app_finishes_due()
    return report
