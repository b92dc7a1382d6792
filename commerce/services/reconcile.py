"""The daily in-app reconciliation (PROTOCOL-ISV 3.3: DingTalk's compensation for lost pushes):
each active tenant's paid, unfinished in-app orders (internal/unfinishedorder/list) that the
ledger never heard of are imported by id; those it knows and the product confirmed are finished
again; those the product has not confirmed are counted (the product was told; it must act)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from commerce.errors import OrderImportRefused
from commerce.models import InAppOrder, MarketOrder
from commerce.services.inapp import in_app_order_finish
from commerce.services.orders import market_order_import
from dingtalk.errors import DingTalkError
from tenants.errors import ServiceError
from tenants.models import Tenant
from tenants.services.clients import client_for

logger = logging.getLogger("commerce")

PAGE_SIZE = 100
MAX_PAGES = 50


@dataclass
class ReconcileReport:
    tenants: int = 0
    imported: list[str] = field(default_factory=list)  # order ids found only here
    finished_again: int = 0
    awaiting_product: int = 0  # paid, told, not yet confirmed by the product
    refused: list[str] = field(default_factory=list)  # DingTalk listed it but would not confirm
    finish_refused: int = 0  # DingTalk refused their finish: an operator retries them
    failed_tenants: int = 0


def _order_id(item) -> str:
    value = item.get("biz_order_id") if isinstance(item, dict) else getattr(
        item, "biz_order_id", None)
    return str(value or "")[:64]


def _unfinished(tenant: Tenant) -> list[str]:
    appstore = client_for(tenant).appstore
    ids: list[str] = []
    for page in range(1, MAX_PAGES + 1):
        total, items = appstore.unfinished_orders(page=page, page_size=PAGE_SIZE)
        ids.extend(order_id for order_id in map(_order_id, items) if order_id)
        if not items or page * PAGE_SIZE >= total:
            break
    return ids


def in_app_reconcile_tenant(*, tenant: Tenant, report: ReconcileReport) -> None:
    """Reconcile one tenant's unfinished in-app orders into `report`."""
    for order_id in _unfinished(tenant):
        known = MarketOrder.objects.filter(suite_id=tenant.suite_id, order_id=order_id).first()
        if known is None or known.status in (MarketOrder.Status.RECEIVED,
                                             MarketOrder.Status.VERIFY_FAILED):
            try:
                market_order_import(suite=tenant.suite, order_id=order_id,
                                    source=MarketOrder.Source.RECONCILE)
            except OrderImportRefused:
                report.refused.append(order_id)
                continue
            report.imported.append(order_id)
            logger.warning("in-app order %r of %s was never pushed: imported", order_id,
                           tenant.corp_id)
            continue
        row = InAppOrder.objects.filter(order=known).first()
        if row is None:
            continue
        if row.status == InAppOrder.Status.CONFIRMED:
            report.finished_again += in_app_order_finish(
                in_app_order=row).status == InAppOrder.Status.FINISHED
        elif row.status == InAppOrder.Status.PAID:
            report.awaiting_product += 1
        elif row.status == InAppOrder.Status.FINISH_REFUSED:
            report.finish_refused += 1


def in_app_reconcile(*, tenants=None) -> ReconcileReport:
    """Reconcile every active suite tenant (or those given); one tenant's failure is logged and
    counted, the others go on."""
    report = ReconcileReport()
    if tenants is None:
        tenants = (Tenant.objects.filter(kind=Tenant.Kind.SUITE, status=Tenant.Status.AUTHORIZED,
                                         suspended=False).select_related("suite").order_by("id"))
    for tenant in tenants:
        report.tenants += 1
        try:
            in_app_reconcile_tenant(tenant=tenant, report=report)
        except (DingTalkError, ServiceError) as exc:
            report.failed_tenants += 1
            logger.warning("in-app reconciliation of %s failed: %s", tenant.corp_id,
                           type(exc).__name__)
    logger.info("in-app reconciliation: %d tenants, %d imported, %d finished again, %d awaiting "
                "the product, %d refused, %d finishes refused (admin: retry finish), %d tenants "
                "failed", report.tenants, len(report.imported), report.finished_again,
                report.awaiting_product, len(report.refused), report.finish_refused,
                report.failed_tenants)
    return report
