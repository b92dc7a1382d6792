"""suite_api_for gives the SuiteApi the new-API base URL: DINGTALK_NEW_API_BASE_URL, or the
host that goes with DINGTALK_BASE_URL; a market order is read through it from the emulator."""

import pytest

from tenants.services.clients import suite_api_for

pytestmark = pytest.mark.django_db


def test_clients_new_api_follows_the_dingtalk_base_url(settings, make_suite, emulator):
    suite, _ = make_suite()
    settings.DINGTALK_NEW_API_BASE_URL = ""
    api = suite_api_for(suite)
    assert api.new_api.base_url == emulator.base_url
    assert api.new_api.hooks is api.transport  # one gate and observer for both hosts
    settings.DINGTALK_NEW_API_BASE_URL = "http://127.0.0.1:11"
    assert suite_api_for(suite).new_api.base_url == "http://127.0.0.1:11"
    settings.DINGTALK_BASE_URL = "https://oapi.dingtalk.com"
    settings.DINGTALK_NEW_API_BASE_URL = ""
    assert suite_api_for(suite).new_api.base_url == "https://api.dingtalk.com"


def test_clients_market_order_through_the_pooled_suite_api(make_suite, emulator):
    suite, remote = make_suite()
    corp = emulator.create_corp(users=2)
    made = emulator._call("POST", f"suites/{suite.suite_key}/market/orders", {
        "corp_id": corp["corp_id"], "item_code": "pro", "push": False})
    order = suite_api_for(suite).market_order(made["order_id"])
    assert (order.biz_order_id, order.corp_id, order.item_code) == (
        made["order_id"], corp["corp_id"], "pro")
