"""The daily in-app reconciliation reads every page of a tenant's unfinished orders within a
per-run page budget (COMMERCE_RECONCILE_PAGE_BUDGET); where the budget ran out, the next run
goes on (a per-tenant position), tenants not reached first."""

from __future__ import annotations

import logging

import pytest

from commerce.models import InAppReconcileCursor, MarketOrder
from commerce.services.reconcile import in_app_reconcile
from tenants.models import Tenant
from tests.commerce.market import order_create
from tests.commerce.test_inapp import shop  # noqa: F401
from tests.tenants.conftest import unique_corp_id, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _lost(emulator, suite, tenant, n: int) -> set[str]:
    return {str(order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                             item_code="credits100", push=False)["order_id"])
            for _ in range(n)}


def test_reconcile_pages_past_the_budget_and_resumes(shop, emulator, settings,  # noqa: F811
                                                     caplog):
    suite, first, _ = shop
    corp = emulator.create_corp(users=2, corp_id=unique_corp_id())
    emulator.authorize(suite.suite_key, corp["corp_id"])
    second = wait_for(lambda: Tenant.objects.filter(
        suite=suite, corp_id=corp["corp_id"], status=Tenant.Status.AUTHORIZED).first(),
        what="the second tenant")
    settings.COMMERCE_RECONCILE_PAGE_SIZE = 2
    settings.COMMERCE_RECONCILE_PAGE_BUDGET = 3
    lost_first = _lost(emulator, suite, first, 7)  # 4 pages
    lost_second = _lost(emulator, suite, second, 1)

    with caplog.at_level(logging.WARNING, logger="commerce"):
        run1 = in_app_reconcile(tenants=[first, second])
    assert len(run1.imported) == 6 and set(run1.imported) < lost_first
    assert run1.budget_exhausted and run1.pages == 3
    assert InAppReconcileCursor.objects.get(tenant=first).next_page == 4
    assert any("budget" in r.getMessage() for r in caplog.records)

    run2 = in_app_reconcile(tenants=[first, second])
    assert set(run1.imported) | set(run2.imported) == lost_first | lost_second
    assert not run2.budget_exhausted and run2.pages == 2
    cursors = {c.tenant_id: c for c in InAppReconcileCursor.objects.all()}
    assert {c.next_page for c in cursors.values()} == {1}
    assert all(c.pass_done_at is not None for c in cursors.values())
    assert MarketOrder.objects.filter(source="reconcile").count() == 8

    # A full pass again from page 1 (the budget allows 3 of first's 4 pages), nothing new.
    run3 = in_app_reconcile(tenants=[first, second])
    assert run3.imported == [] and run3.awaiting_product == 6
