"""The commerce admin (who pays, until when; each tenant's orders; read-only) and commerce's
part of the tenant data lifecycle (export all, keep only the accounting fields)."""

import pytest
from django.core.management import CommandError, call_command

from commerce.lifecycle import delete, export
from commerce.models import (
    Entitlement,
    InAppConsumption,
    InAppOrder,
    InAppReconcileCursor,
    MarketOrder,
    MemberOpen,
)
from tests.tenants.factories import SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(pusher_for, settings):
    settings.COMMERCE_VERIFY_ORDERS = False
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    pusher = pusher_for(suite)
    pusher.order(tenant.corp_id, "o1", fee=9900)
    pusher.order(tenant.corp_id, "iap", fee=100, mainGoodsCode="FW_GOODS-1")
    pusher.tryout(tenant.corp_id, "union-a", "enterprise_tryout")
    InAppConsumption.objects.create(in_app_order=InAppOrder.objects.get(), tenant=tenant,
                                    request_id="r1", quantity=1, userid="user7")
    InAppReconcileCursor.objects.create(tenant=tenant, next_page=3)
    return tenant


def test_admin_entitlements_orders_and_history(admin_client, ledger):
    page = admin_client.get("/admin/commerce/entitlement/").content.decode()
    assert ledger.corp_id in page or ledger.corp_name in page
    assert "item_pro" in page and "paid" in page.lower()
    ent = Entitlement.objects.get(tenant=ledger)
    detail = admin_client.get(f"/admin/commerce/entitlement/{ent.pk}/change/").content.decode()
    assert "o1" in detail and "iap" in detail  # the tenant's order history
    orders = admin_client.get("/admin/commerce/marketorder/?status=active").content.decode()
    assert "Import order by id" in orders and "o1" in orders
    order = MarketOrder.objects.get(order_id="o1")
    response = admin_client.post(f"/admin/commerce/marketorder/{order.pk}/change/",
                                 {"status": "refunded"})
    assert response.status_code == 403
    assert MarketOrder.objects.get(pk=order.pk).status == "active"
    form = admin_client.get("/admin/commerce/marketorder/import/")
    assert form.status_code == 200 and b"order_id" in form.content
    bad = admin_client.post("/admin/commerce/marketorder/import/",
                            {"suite": ledger.suite_id, "order_id": "no\x00pe"})
    assert bad.status_code == 200 and b"errorlist" in bad.content


def test_admin_recompute_action(admin_client, ledger):
    Entitlement.objects.filter(tenant=ledger).update(kind="none", item_code="")
    ent = Entitlement.objects.get(tenant=ledger)
    response = admin_client.post("/admin/commerce/entitlement/", {
        "action": "recompute", "_selected_action": [ent.pk]}, follow=True)
    assert response.status_code == 200
    ent.refresh_from_db()
    assert (ent.kind, ent.item_code) == ("paid", "item_pro")


def test_lifecycle_exports_everything_and_keeps_accounting_only(ledger):
    data = export(ledger)
    assert {row["order_id"] for row in data["commerce.MarketOrder"]} == {"o1", "iap"}
    assert data["commerce.MemberOpen"][0]["buyer_unionid"] == "union-a"
    assert data["commerce.InAppConsumption"][0]["request_id"] == "r1"
    assert len(data["commerce.Entitlement"]) == 1
    assert data["commerce.InAppReconcileCursor"][0]["next_page"] == 3

    counts = delete(ledger)
    assert counts["commerce.Entitlement"] == 1 and counts["commerce.MemberOpen"] == 1
    assert not Entitlement.objects.filter(tenant=ledger).exists()
    assert not MemberOpen.objects.exists()
    assert not InAppReconcileCursor.objects.exists()
    order = MarketOrder.objects.get(order_id="o1")
    assert (order.pay_fee, order.item_code, order.status) == (9900, "item_pro", "active")
    assert (order.buyer_unionid, order.buyer_userid, order.data, order.pushes) == (
        "", "", {}, [])
    used = InAppConsumption.objects.get()
    assert (used.request_id, used.quantity, used.userid) == ("r1", 1, "")


@pytest.mark.parametrize("order_id", ["a\x00b", "1" * 65, "..", "12 34"])
def test_import_command_refuses_an_order_id_that_is_not_one(order_id):
    suite = SuiteFactory()
    with pytest.raises(CommandError, match="invalid_order_id"):
        call_command("commerce_import_order", suite.suite_key, order_id)
    assert not MarketOrder.objects.exists()
