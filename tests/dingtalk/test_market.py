"""SuiteApi.market_order over the new-API transport, against the emulator: answers, errors,
token recovery, retries, hooks; and the new-API error classes."""

import pickle

import pytest

from dingtalk.api import MarketOrder
from dingtalk.credentials import SuiteCredentials
from dingtalk.errors import (
    ApiError,
    BadResponse,
    ConnectionFailed,
    NewApiError,
    NewApiQuotaExceeded,
    NewApiRateLimited,
    NewApiTokenError,
    NewApiTransientError,
    RateLimited,
    ServerError,
    TokenError,
    TransientApiError,
    new_api_error,
)
from dingtalk.isv import SuiteApi
from dingtalk.newapi import DEFAULT_NEW_API_BASE_URL, NewApiTransport, fill, new_api_base_url
from dingtalk.repeat import endpoint_key, is_safe_to_repeat, retryable_error
from dingtalk.retry import RetryPolicy
from dingtalk.transport import DEFAULT_BASE_URL
from tests.dingtalk.test_client_support import Sleeps

ORDER = "v1.0/appMarket/orders/{orderId}"


def control(emulator, path, body=None):
    return emulator._call("POST", path, body or {})


@pytest.fixture
def shop(emulator):
    corp = emulator.create_corp(users=3)
    suite = emulator.create_suite(name="Shop")
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    sleeps = Sleeps()
    creds = SuiteCredentials(suite["suite_key"], suite["suite_secret"],
                             lambda: emulator.current_ticket(suite["suite_key"]))
    api = SuiteApi(creds, base_url=emulator.base_url, retry=RetryPolicy(sleep=sleeps))
    made = control(emulator, f"suites/{suite['suite_key']}/market/orders", {
        "corp_id": corp["corp_id"], "item_code": "pro", "item_name": "Pro", "pay_fee": 19900,
        "sub_quantity": 5, "push": False})
    yield emulator, api, made, sleeps, suite, corp
    api.close()


def calls(emulator) -> int:
    return emulator.counters()["calls"].get(ORDER, 0)


def test_market_order_reads_the_order(shop):
    emulator, api, made, _, _, corp = shop
    order = api.market_order(made["order_id"])
    assert isinstance(order, MarketOrder)
    assert (order.biz_order_id, order.corp_id, order.item_code, order.item_name,
            order.total_actual_pay_fee, order.status, order.quantity, order.in_app) == (
        made["order_id"], corp["corp_id"], "pro", "Pro", 19900, 3, 5, False)
    assert (order.start_ms, order.end_ms, order.paid_ms, order.create_ms) == (
        made["service_start_ms"], made["service_stop_ms"], made["paid_ms"], made["created_ms"])
    assert order.paid and not order.closed
    assert order.raw["bizOrderId"] == int(made["order_id"])
    control(emulator, f"suites/{api.suite.suite_key}/market/orders/{made['order_id']}/refund",
            {"push": False})
    assert api.market_order(made["order_id"]).closed


@pytest.mark.parametrize(("order_id", "code"), [
    ("4242", "order.not.exist"), ("other", "illegal.order.principle"),
])
def test_market_order_refusals_are_new_api_errors_and_not_retried(shop, order_id, code):
    emulator, api, _, sleeps, _, corp = shop
    if order_id == "other":
        other = emulator.create_suite(name="Other")
        order_id = control(emulator, f"suites/{other['suite_key']}/market/orders", {
            "corp_id": corp["corp_id"], "item_code": "x", "push": False})["order_id"]
    before = calls(emulator)
    with pytest.raises(NewApiError) as caught:
        api.market_order(order_id)
    error = caught.value
    assert (type(error), error.code, error.status, error.http_status, error.sub_code) == (
        NewApiError, code, 400, 400, code)
    assert error.request_id and error.path == ORDER and error.errcode is None
    assert not retryable_error(error) and sleeps.delays == []
    assert calls(emulator) == before + 1
    assert code in str(error) and "HTTP 400" in str(error)


def test_market_order_recovers_from_a_refused_suite_token(shop):
    emulator, api, made, _, _, _ = shop
    first = api.suite_access_token()
    emulator.expire_tokens(suite_key=api.suite.suite_key, kind="suite")
    assert api.market_order(made["order_id"]).biz_order_id == made["order_id"]
    assert api.suite_access_token().value != first.value
    assert emulator.counters()["token_fetches"]["get_suite_token"][api.suite.suite_key] == 2


@pytest.mark.parametrize(("fault", "cls"), [
    ({"http_status": 500}, NewApiTransientError),
    ({"http_status": 503, "sub_code": "ServiceUnavailable"}, NewApiTransientError),
    ({"throttle": "app"}, NewApiRateLimited),
    ({"http_status": 502, "raw_body": "<html>bad gateway</html>"}, ServerError),
    ({"drop": True}, ConnectionFailed),
])
def test_market_order_retries_what_a_retry_can_fix(shop, fault, cls):
    emulator, api, made, sleeps, _, _ = shop
    emulator.add_fault(ORDER, count=1, **fault)
    assert api.market_order(made["order_id"]).status == 3
    assert len(sleeps.delays) == 1
    emulator.add_fault(ORDER, count=5, **fault)
    with pytest.raises(cls) as caught:
        api.market_order(made["order_id"])
    assert retryable_error(caught.value)


def test_market_order_sends_the_token_in_the_header_only(shop):
    emulator, api, made, _, _, _ = shop
    seen = []
    api.transport.observe = lambda path, outcome, seconds: seen.append((path, outcome))
    api.transport.gate = lambda method, path: seen.append((method, path))
    api.market_order(made["order_id"])
    with pytest.raises(NewApiError):
        api.market_order("nope")
    new_api = [s for s in seen if ORDER in s]
    assert new_api == [("GET", ORDER), (ORDER, "0"), ("GET", ORDER), (ORDER, "order.not.exist")]
    token = api.suite_access_token().value
    assert token not in repr(api) + repr(api.new_api)


@pytest.mark.parametrize("order_id", [".", ".."])
def test_market_order_id_of_dots_stays_one_path_segment(shop, order_id):
    # A path segment of dots is a "." / ".." to the URL parser, which climbs out of the
    # template ("orders/.." asked GET v1.0/appMarket/ with the suite token).
    emulator, api, *_ = shop
    assert fill(ORDER, orderId=order_id) == "v1.0/appMarket/orders/" + "%2E" * len(order_id)
    before = calls(emulator)
    with pytest.raises(NewApiError) as caught:
        api.market_order(order_id)
    assert caught.value.code == "order.not.exist"
    assert calls(emulator) == before + 1


def test_market_order_answer_without_an_order_id_is_a_bad_response():
    with pytest.raises(BadResponse):
        MarketOrder.from_body({"corpId": "c"})
    lenient = MarketOrder.from_body({"bizOrderId": 7, "status": "x", "quantity": None,
                                     "inAppOrder": "true"})
    assert (lenient.biz_order_id, lenient.status, lenient.quantity, lenient.in_app) == (
        "7", None, None, False)


def test_market_new_api_base_url_follows_the_old_one(emulator):
    assert new_api_base_url(DEFAULT_BASE_URL) == DEFAULT_NEW_API_BASE_URL
    assert new_api_base_url("https://oapi.dingtalk.com/") == DEFAULT_NEW_API_BASE_URL
    assert new_api_base_url(emulator.base_url + "/") == emulator.base_url
    creds = SuiteCredentials("k", "s", lambda: "t")
    assert SuiteApi(creds).new_api.base_url == DEFAULT_NEW_API_BASE_URL
    assert SuiteApi(creds, base_url=emulator.base_url).new_api.base_url == emulator.base_url
    explicit = SuiteApi(creds, new_api_base_url="http://elsewhere:1/")
    assert explicit.new_api.base_url == "http://elsewhere:1"
    assert explicit.new_api.session is explicit.transport.session  # one pool
    own = NewApiTransport("http://x")
    assert SuiteApi(creds, new_api_transport=own).new_api is own


def test_market_repeat_table_knows_new_api_paths_by_template():
    assert fill(ORDER, orderId="a/b c") == "v1.0/appMarket/orders/a%2Fb%20c"
    assert endpoint_key("/v1.0/appMarket/orders/123?x=1") == ORDER
    assert endpoint_key("v1.0/appMarket/orders/1/2") == "v1.0/appMarket/orders/1/2"
    assert is_safe_to_repeat("v1.0/appMarket/orders/99")


@pytest.mark.parametrize(("status", "body", "cls", "family"), [
    (400, {"code": "InvalidAuthentication", "message": "m"}, NewApiTokenError, TokenError),
    (403, {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"}, NewApiRateLimited,
     RateLimited),
    (429, {"code": "Anything"}, NewApiRateLimited, RateLimited),
    (400, {"code": "Throttling.User"}, NewApiRateLimited, RateLimited),
    (403, {"code": "Forbidden.AccessDenied.ApiCountLimitForOrg"}, NewApiQuotaExceeded,
     ApiError),
    (400, {"code": "systemBusy"}, NewApiTransientError, TransientApiError),
    (500, {"code": "whatever"}, NewApiTransientError, TransientApiError),
    (400, {"code": "goods.not.app"}, NewApiError, ApiError),
    (400, {"code": "invalidSuiteTicket"}, NewApiError, ApiError),
])
def test_market_new_api_error_classes(status, body, cls, family):
    error = new_api_error(status, {**body, "requestid": "R1"}, path=ORDER)
    assert type(error) is cls and isinstance(error, family) and isinstance(error, NewApiError)
    assert (error.status, error.code, error.request_id) == (status, body["code"], "R1")
    assert retryable_error(error) == isinstance(error, RateLimited | TransientApiError)
    if isinstance(error, RateLimited):
        assert error.retry_after == 1.0
    copy = pickle.loads(pickle.dumps(error))  # Celery pickles errors
    assert (type(copy), copy.code, copy.status, str(copy)) == (cls, error.code, status,
                                                              str(error))
