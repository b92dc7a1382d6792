"""internal/order/finish refused by DingTalk (an API error): recorded as FINISH_REFUSED with
DingTalk's errcode and errmsg, never retried by the sweep; shown in the API's order output and
the admin, whose "retry finish" action tries it again. Throttling keeps retrying."""

from __future__ import annotations

import pytest

from commerce.models import InAppOrder, MarketOrder
from commerce.services.inapp import in_app_finishes_due
from commerce.services.reconcile import in_app_reconcile
from tests.commerce.market import calls, order_create
from tests.commerce.test_e2e import order_in
from tests.commerce.test_inapp import FINISH, shop  # noqa: F401
from tests.conftest import advance_time

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
IStatus = InAppOrder.Status


def _in_app(emulator, suite, tenant) -> MarketOrder:
    remote = order_create(emulator, suite.suite_key, tenant.corp_id, in_app=True,
                          item_code="credits100")
    return order_in(suite, str(remote["order_id"]), MarketOrder.Status.ACTIVE)


def test_finish_refused_is_recorded_not_retried_and_an_operator_retries_it(
        shop, emulator, admin_client):  # noqa: F811
    suite, tenant, api = shop
    order = _in_app(emulator, suite, tenant)
    emulator.add_fault(FINISH, corp_id=tenant.corp_id, errcode=40035, errmsg="订单状态不正确")
    answer = api.post(f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/fulfil/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["finish_errcode"], body["finish_errmsg"]) == (
        "finish_refused", "40035", "订单状态不正确")
    row = InAppOrder.objects.get(order=order)
    assert (row.status, row.finish_errcode, row.next_attempt_at) == (
        IStatus.FINISH_REFUSED, "40035", None)
    assert calls(emulator, FINISH, tenant.corp_id) == 1

    # Hours later the sweep has not tried it again, and a repeated fulfil does not either.
    advance_time(emulator, 3 * 3600)
    assert in_app_finishes_due() == 0
    again = api.post(f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/fulfil/")
    assert again.json()["status"] == "finish_refused"
    assert calls(emulator, FINISH, tenant.corp_id) == 1

    listed = api.get(f"/api/v1/tenants/{tenant.corp_id}/orders/").json()["results"]
    [shown] = [o for o in listed if o["order_id"] == order.order_id]
    assert (shown["in_app_status"], shown["in_app_finish_errcode"],
            shown["in_app_finish_errmsg"]) == ("finish_refused", "40035", "订单状态不正确")
    page = admin_client.get("/admin/commerce/inapporder/?status=finish_refused").content
    assert order.order_id.encode() in page and "订单状态不正确".encode() in page

    # The daily reconciliation counts it (DingTalk still lists it) and leaves it alone.
    assert in_app_reconcile(tenants=[tenant]).finish_refused == 1
    assert calls(emulator, FINISH, tenant.corp_id) == 1

    # The operator fixed the cause at DingTalk and retries.
    emulator.clear_faults()
    response = admin_client.post("/admin/commerce/inapporder/", {
        "action": "retry_finish", "_selected_action": [row.pk]}, follow=True)
    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.finish_errcode, row.finish_errmsg) == (IStatus.FINISHED, "", "")
    assert calls(emulator, FINISH, tenant.corp_id) == 2


def test_finish_throttled_keeps_retrying_with_backoff(shop, emulator):  # noqa: F811
    suite, tenant, api = shop
    order = _in_app(emulator, suite, tenant)
    emulator.add_fault(FINISH, corp_id=tenant.corp_id, errcode=90018, errmsg="too fast",
                       count=20)
    answer = api.post(f"/api/v1/tenants/{tenant.corp_id}/orders/{order.order_id}/fulfil/")
    assert answer.json()["status"] == "confirmed"
    row = InAppOrder.objects.get(order=order)
    assert row.next_attempt_at is not None and row.finish_errcode == ""
    emulator.clear_faults()
    advance_time(emulator, 120)
    assert in_app_finishes_due() == 1
    assert InAppOrder.objects.get(order=order).status == IStatus.FINISHED
