"""The daily in-app reconciliation (PROTOCOL-ISV 3.3: DingTalk's compensation for lost pushes):
each active tenant's paid, unfinished in-app orders (internal/unfinishedorder/list) that the
ledger never heard of are imported by id; those it knows and the product confirmed are finished
again; those the product has not confirmed are counted (the product was told; it must act).

Every page is read: a run reads at most COMMERCE_RECONCILE_PAGE_BUDGET pages over all tenants,
and where it stops (InAppReconcileCursor: the tenant's next page) the next run goes on, the
tenants whose last full pass is oldest first. An order that moves to an earlier page between
two runs (others were finished) is read by the next pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F

from commerce.errors import OrderImportRefused
from commerce.models import InAppOrder, InAppReconcileCursor, MarketOrder
from commerce.services.inapp import in_app_order_finish
from commerce.services.orders import market_order_import
from core import clock
from dingtalk.errors import DingTalkError
from tenants.errors import ServiceError
from tenants.models import Tenant
from tenants.services.clients import client_for

logger = logging.getLogger("commerce")


@dataclass
class ReconcileReport:
    tenants: int = 0
    imported: list[str] = field(default_factory=list)  # order ids found only here
    finished_again: int = 0
    awaiting_product: int = 0  # paid, told, not yet confirmed by the product
    refused: list[str] = field(default_factory=list)  # DingTalk listed it but would not confirm
    finish_refused: int = 0  # DingTalk refused their finish: an operator retries them
    failed_tenants: int = 0
    pages: int = 0  # unfinishedorder/list pages read (COMMERCE_RECONCILE_PAGE_BUDGET caps them)
    budget_exhausted: bool = False  # the next run goes on where this one stopped


def _order_id(item) -> str:
    value = item.get("biz_order_id") if isinstance(item, dict) else getattr(
        item, "biz_order_id", None)
    return str(value or "")[:64]


def _unfinished(tenant: Tenant, report: ReconcileReport) -> list[str]:
    """The order ids on the tenant's pages from its cursor on, until the last page or the
    run's budget; the cursor records where the next run goes on."""
    cursor, _ = InAppReconcileCursor.objects.get_or_create(tenant=tenant)
    appstore = client_for(tenant).appstore
    size = settings.COMMERCE_RECONCILE_PAGE_SIZE
    ids: list[str] = []
    page = cursor.next_page
    while True:
        if report.pages >= settings.COMMERCE_RECONCILE_PAGE_BUDGET:
            report.budget_exhausted = True
            InAppReconcileCursor.objects.filter(pk=cursor.pk).update(next_page=page)
            logger.warning("in-app reconciliation budget (%d pages) spent in %s: the next run "
                           "goes on at page %d", settings.COMMERCE_RECONCILE_PAGE_BUDGET,
                           tenant.corp_id, page)
            return ids
        total, items = appstore.unfinished_orders(page=page, page_size=size)
        report.pages += 1
        ids.extend(order_id for order_id in map(_order_id, items) if order_id)
        if not items or page * size >= total:
            InAppReconcileCursor.objects.filter(pk=cursor.pk).update(
                next_page=1, pass_done_at=clock.now())
            return ids
        page += 1


def in_app_reconcile_tenant(*, tenant: Tenant, report: ReconcileReport) -> None:
    """Reconcile one tenant's unfinished in-app orders (from its cursor, within the run's page
    budget) into `report`."""
    for order_id in _unfinished(tenant, report):
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


def _oldest_pass_first(tenants) -> list[Tenant]:
    done = dict(InAppReconcileCursor.objects.filter(tenant__in=[t.pk for t in tenants])
                .values_list("tenant_id", "pass_done_at"))
    return sorted(tenants, key=lambda t: (done.get(t.pk) is not None,
                                          done.get(t.pk) or clock.now(), t.pk))


def in_app_reconcile(*, tenants=None) -> ReconcileReport:
    """Reconcile every active suite tenant (or those given), the oldest full pass first, until
    the page budget is spent; one tenant's failure is logged and counted, the others go on."""
    report = ReconcileReport()
    if tenants is None:
        tenants = (Tenant.objects.filter(kind=Tenant.Kind.SUITE, status=Tenant.Status.AUTHORIZED,
                                         suspended=False).select_related("suite")
                   .order_by(F("in_app_reconcile_cursor__pass_done_at").asc(nulls_first=True),
                             "id"))
    else:
        tenants = _oldest_pass_first(list(tenants))
    for tenant in tenants:
        if report.budget_exhausted:
            break
        report.tenants += 1
        try:
            in_app_reconcile_tenant(tenant=tenant, report=report)
        except (DingTalkError, ServiceError) as exc:
            report.failed_tenants += 1
            logger.warning("in-app reconciliation of %s failed: %s", tenant.corp_id,
                           type(exc).__name__)
    logger.info("in-app reconciliation: %d tenants, %d imported, %d finished again, %d awaiting "
                "the product, %d refused, %d finishes refused (admin: retry finish), %d tenants "
                "failed, %d pages%s", report.tenants, len(report.imported), report.finished_again,
                report.awaiting_product, len(report.refused), report.finish_refused,
                report.failed_tenants, report.pages,
                " (budget spent: the next run goes on)" if report.budget_exhausted else "")
    return report
