"""Lost pushes and in-app purchases against the emulator: import by id (admin, command), the
daily reconciliation, order.paid -> fulfil -> finish exactly once, idempotent consumption."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from api.models import WebhookEvent
from api.services.keys import api_key_create
from api.services.webhooks import webhook_endpoint_create
from commerce.errors import OrderImportRefused
from commerce.models import Entitlement, InAppConsumption, InAppOrder, MarketOrder
from commerce.services.inapp import in_app_finishes_due
from commerce.services.orders import market_order_import
from commerce.services.reconcile import in_app_reconcile
from tests.api.conftest import key_client
from tests.commerce.market import calls, order_create, order_refund, order_view
from tests.commerce.test_e2e import order_in, shop_tenant
from tests.conftest import advance_time
from tests.tenants.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = MarketOrder.Status
FINISH = "topapi/appstore/internal/order/finish"
URL = "https://93.184.216.34/hooks"


@pytest.fixture
def shop(celery_worker, live_server, emulator, make_suite):
    suite, tenant = shop_tenant(make_suite, live_server, emulator)
    api = key_client(api_key_create(name="shop", suite=suite).plaintext)
    return suite, tenant, api


def test_inapp_lost_push_healed_by_import_by_id(shop, emulator, admin_client, capsys):
    suite, tenant, _ = shop
    lost = order_create(emulator, suite.suite_key, tenant.corp_id, push=False)
    order_id = str(lost["order_id"])
    assert not MarketOrder.objects.filter(order_id=order_id).exists()

    response = admin_client.post("/admin/commerce/marketorder/import/",
                                 {"suite": suite.pk, "order_id": order_id})
    assert response.status_code == 302
    order = MarketOrder.objects.get(suite=suite, order_id=order_id)
    assert (order.status, order.source, order.tenant_id) == (Status.ACTIVE, "import", tenant.pk)
    assert Entitlement.objects.get(tenant=tenant).order_id == order.pk
    # Again: the settled order is answered as it is, DingTalk is not asked twice.
    assert market_order_import(suite=suite, order_id=order_id).pk == order.pk

    other = order_create(emulator, suite.suite_key, tenant.corp_id, push=False,
                         item_code="item_x")
    call_command("commerce_import_order", suite.suite_key, str(other["order_id"]))
    assert "active" in capsys.readouterr().out
    with pytest.raises(CommandError, match="order_import_refused"):
        call_command("commerce_import_order", suite.suite_key, "123456789")
    with pytest.raises(OrderImportRefused):
        market_order_import(suite=suite, order_id="123456789")


def test_inapp_paid_fulfilled_twice_at_once_finishes_once(shop, emulator):
    suite, tenant, api = shop
    webhook_endpoint_create(suite=suite, url=URL, events=["order.paid"])
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits100", sub_quantity=100, pay_fee=500)
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    assert order.in_app
    paid = wait_for(lambda: WebhookEvent.objects.filter(event_type="order.paid").first(),
                    what="the order.paid webhook")
    assert paid.payload["data"]["order"]["order_id"] == order.order_id
    assert not Entitlement.objects.filter(tenant=tenant).exclude(kind="none").exists()

    url = f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/fulfil/"
    answers, start = [], threading.Barrier(2)

    def fulfil():
        try:
            start.wait()
            answers.append(api.post(url))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fulfil) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [200, 200]
    assert calls(emulator, FINISH, tenant.corp_id) == 1
    assert InAppOrder.objects.get(order=order).status == InAppOrder.Status.FINISHED
    assert order_view(emulator, suite.suite_key, order.order_id)["finished"] is True
    again = api.post(url)
    assert again.json()["status"] == "finished" and calls(emulator, FINISH) == 1


def test_inapp_failed_finish_stays_confirmed_for_the_sweep(shop, emulator):
    suite, tenant, api = shop
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits100")
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    # More failures than the client's own retries: the finish fails for now.
    emulator.add_fault(FINISH, corp_id=tenant.corp_id, http_status=503, count=20)
    answer = api.post(f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/fulfil/")
    assert answer.status_code == 200 and answer.json()["status"] == "confirmed"
    row = InAppOrder.objects.get(order=order)
    assert row.last_error and row.next_attempt_at is not None
    assert in_app_finishes_due() == 0  # its retry is not due yet
    emulator.clear_faults()
    advance_time(emulator, 120)
    assert in_app_finishes_due() == 1
    assert InAppOrder.objects.get(order=order).status == InAppOrder.Status.FINISHED


def test_inapp_consume_is_idempotent_per_request_id(shop, emulator):
    suite, tenant, api = shop
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits10", sub_quantity=10)
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    userid = emulator.get_corp(tenant.corp_id)["userids"][0]
    url = f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/consume/"
    body = {"request_id": "req-1", "quantity": 3, "userid": userid}
    first = api.post(url, body, format="json")
    assert first.status_code == 200 and first.json()["status"] == "done"
    assert api.post(url, body, format="json").json() == first.json()
    assert order_view(emulator, suite.suite_key, order.order_id)["consumed"] == 3
    conflict = api.post(url, {**body, "quantity": 4}, format="json")
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (
        409, "consumption_conflict")
    too_many = api.post(url, {"request_id": "req-2", "quantity": 8, "userid": userid},
                        format="json")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (
        422, "consumption_refused")
    repeat = api.post(url, {"request_id": "req-2", "quantity": 8, "userid": userid},
                      format="json")
    assert repeat.json()["error"]["code"] == "consumption_refused"
    assert order_view(emulator, suite.suite_key, order.order_id)["consumed"] == 3
    assert InAppConsumption.objects.filter(in_app_order__order=order).count() == 2


def test_inapp_daily_reconciliation_imports_a_lost_paid_order(shop, emulator):
    suite, tenant, api = shop
    webhook_endpoint_create(suite=suite, url=URL, events=["order.paid"])
    lost = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                        item_code="credits100", push=False)
    known = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                         item_code="credits100")
    order_in(suite, str(known["order_id"]), Status.ACTIVE)
    report = in_app_reconcile(tenants=[tenant])
    assert report.imported == [str(lost["order_id"])]
    assert report.awaiting_product == 1 and report.failed_tenants == 0
    order = MarketOrder.objects.get(order_id=str(lost["order_id"]))
    assert (order.status, order.source, order.in_app) == (Status.ACTIVE, "reconcile", True)
    assert InAppOrder.objects.get(order=order).status == InAppOrder.Status.PAID
    wait_for(lambda: WebhookEvent.objects.filter(event_type="order.paid").count() == 2,
             what="order.paid for the imported order too")
    # A second run finds nothing new.
    assert in_app_reconcile(tenants=[tenant]).imported == []


def test_inapp_consume_of_an_order_refunded_after_its_finish_is_order_refunded(shop, emulator):
    suite, tenant, api = shop
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits10", sub_quantity=10)
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    base = f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}"
    userid = emulator.get_corp(tenant.corp_id)["userids"][0]
    first = {"request_id": "r0", "quantity": 1, "userid": userid}
    done = api.post(f"{base}/consume/", first, format="json").json()
    assert api.post(f"{base}/fulfil/").json()["status"] == "finished"
    order_refund(emulator, suite.suite_key, order.order_id)
    order_in(suite, order.order_id, Status.REFUNDED)
    consume = "topapi/appstore/internal/order/consume"
    before = calls(emulator, consume)
    answer = api.post(f"{base}/consume/", {**first, "request_id": "r1"}, format="json")
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "order_refunded")
    # A repeat of a consumption done before the refund still answers as it did.
    assert api.post(f"{base}/consume/", first, format="json").json() == done
    assert calls(emulator, consume) == before  # DingTalk is not asked
    assert InAppConsumption.objects.filter(in_app_order__order=order).count() == 1


def test_inapp_worker_killed_after_dingtalks_finish_is_finished_by_the_sweep(shop, emulator,
                                                                              settings):
    # The worker claimed the finish, DingTalk finished the order, the worker died before it
    # recorded that: the lease runs out, the sweep finishes it again, which DingTalk accepts.
    from datetime import timedelta

    from core import clock
    from tenants.services.clients import client_for

    suite, tenant, _ = shop
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits100")
    order = order_in(suite, str(remote["order_id"]), Status.ACTIVE)
    now = clock.now()
    InAppOrder.objects.filter(order=order).update(
        status=InAppOrder.Status.CONFIRMED, confirmed_at=now, next_attempt_at=now,
        finish_attempts=1,
        lease_expires_at=now + timedelta(seconds=settings.COMMERCE_CALL_LEASE_S))
    client_for(tenant).appstore.internal_order_finish(order.order_id)
    assert in_app_finishes_due() == 0  # the dead worker's lease still holds it
    advance_time(emulator, settings.COMMERCE_CALL_LEASE_S + 1)
    assert in_app_finishes_due() == 1
    row = InAppOrder.objects.get(order=order)
    assert (row.status, row.finish_attempts) == (InAppOrder.Status.FINISHED, 2)
    assert calls(emulator, FINISH, tenant.corp_id) == 2
