"""config.exceptions: every failure a view can raise becomes {"error": {code, message, details}}."""

import json
import logging

import pytest
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from dingtalk.errors import (
    ApiError,
    ConnectionFailed,
    InvalidRequest,
    MessageError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    TransientApiError,
)
from tenants.errors import TenantInactive


class _Input(serializers.Serializer):
    count = serializers.IntegerField(max_value=10)


def _view(raise_):
    class ProbeApi(APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def post(self, request):
            raise_(request)

    return ProbeApi.as_view()


def _call(raise_):
    request = APIRequestFactory().post("/probe", {"count": 99}, format="json")
    response = _view(raise_)(request)
    response.render()
    return response


def _raise(exc):
    def raise_(request):
        raise exc

    return raise_


def _error(response) -> dict:
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert "Traceback" not in response.content.decode()
    return body["error"]


def test_api_errors_service_error_keeps_its_code_status_and_extra():
    response = _call(_raise(TenantInactive("tenant ding1 is relieved",
                                           extra={"corp_id": "ding1"})))
    assert response.status_code == 409
    assert _error(response) == {"code": "tenant_inactive", "message": "tenant ding1 is relieved",
                                "details": {"corp_id": "ding1"}}


def test_api_errors_dingtalk_refusal_carries_errcode_and_errmsg():
    exc = PermissionDenied(60011, "no permission", request_id="req-1")
    error = _error(response := _call(_raise(exc)))
    assert response.status_code == 403 and error["code"] == "dingtalk_permission_denied"
    assert error["details"] == {"errcode": 60011, "errmsg": "no permission",
                                "request_id": "req-1"}


@pytest.mark.parametrize(("exc", "http_status", "code"), [
    (NotFound(60121, "user not found"), 404, "dingtalk_not_found"),
    (PermissionDenied(50004, "out of scope"), 403, "dingtalk_permission_denied"),
    (InvalidRequest(40035, "bad param"), 400, "dingtalk_invalid_request"),
    (TransientApiError(-1, "busy"), 502, "dingtalk_unavailable"),
    (QuotaExceeded(90020, "monthly quota"), 429, "dingtalk_quota_exceeded"),
    (ApiError(123456, "something else"), 502, "dingtalk_refused"),
])
def test_api_errors_dingtalk_errors_map_by_class(exc, http_status, code):
    error = _error(response := _call(_raise(exc)))
    assert response.status_code == http_status and error["code"] == code
    assert error["details"]["errcode"] == exc.errcode
    assert error["details"]["errmsg"] == exc.errmsg
    if http_status == 429:
        assert int(response["Retry-After"]) >= 1


def test_api_errors_a_refused_message_is_a_400():
    response = _call(_raise(MessageError("msg is required")))
    assert response.status_code == 400 and _error(response)["code"] == "message_invalid"


def test_api_errors_dingtalk_throttling_is_a_429_with_retry_after():
    exc = RateLimited(90018, "too fast")
    exc.retry_after = 3
    response = _call(_raise(exc))
    assert response.status_code == 429 and response["Retry-After"] == "3"
    assert _error(response)["details"]["errcode"] == 90018


def test_api_errors_dingtalk_throttling_without_a_hint_still_says_when():
    response = _call(_raise(RateLimited(90018, "too fast")))
    assert response.status_code == 429 and response["Retry-After"] == "1"


def test_api_errors_dingtalk_unreachable_is_a_502():
    response = _call(_raise(ConnectionFailed("refused", path="/gettoken")))
    assert response.status_code == 502
    assert _error(response)["code"] == "dingtalk_unavailable"


def test_api_errors_validation_lists_the_fields():
    def validate(request):
        _Input(data=request.data).is_valid(raise_exception=True)

    response = _call(validate)
    error = _error(response)
    assert response.status_code == 400 and error["code"] == "invalid"
    assert "count" in error["details"]


def test_api_errors_drf_throttle_keeps_retry_after():
    response = _call(_raise(Throttled(wait=7)))
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert _error(response)["code"] == "throttled"


def test_api_errors_a_bug_is_a_logged_500_without_a_trace(caplog):
    caplog.set_level(logging.ERROR, logger="api.errors")
    response = _call(_raise(KeyError("secret-ish internals")))
    error = _error(response)
    assert response.status_code == 500 and error["code"] == "internal_error"
    assert "secret-ish" not in response.content.decode()
    assert any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("exc", [TenantInactive("x"), KeyError("y")])
def test_api_errors_are_json(exc):
    assert _call(_raise(exc))["Content-Type"] == "application/json"
