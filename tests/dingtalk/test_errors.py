"""Tests for the error tree and errcode -> exception mapping."""

import pickle

import pytest

from dingtalk import errors
from dingtalk.errors import (
    ApiError,
    DingTalkError,
    InvalidRequest,
    MessageError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    ServerError,
    SignatureError,
    TokenError,
    TransientApiError,
    TransportError,
    error_for,
)
from dingtalk.retry import RetryPolicy


@pytest.mark.parametrize(
    ("errcode", "cls"),
    [
        (40014, TokenError), (42001, TokenError), (40001, TokenError), (33001, TokenError),
        (42009, TokenError),
        (90018, RateLimited), (90002, RateLimited), (90001, RateLimited), (90017, RateLimited),
        (90020, QuotaExceeded),
        (-1, TransientApiError), (500, TransientApiError), (400001, TransientApiError),
        (60011, PermissionDenied), (60020, PermissionDenied), (50002, PermissionDenied),
        (50004, PermissionDenied), (43007, PermissionDenied),
        (60003, NotFound), (60121, NotFound), (33012, NotFound),
        (40035, InvalidRequest), (400002, InvalidRequest), (40003, InvalidRequest),
        (40009, InvalidRequest), (40031, InvalidRequest), (40056, InvalidRequest),
        (40068, InvalidRequest), (40070, InvalidRequest), (41029, InvalidRequest),
        (853001, SignatureError), (853002, SignatureError), (853004, SignatureError),
        (40085, SignatureError), (40088, SignatureError), (40089, SignatureError),
    ],
)
def test_errors_errcode_maps_to_class(errcode, cls):
    error = error_for({"errcode": errcode, "errmsg": "x"})
    assert type(error) is cls
    assert error.errcode == errcode


def test_errors_unknown_errcode_is_plain_api_error():
    error = error_for({"errcode": 123456, "errmsg": "new"})
    assert type(error) is ApiError


def test_errors_string_errcode_is_cast():
    assert type(error_for({"errcode": "40014", "errmsg": "bad"})) is TokenError


def test_errors_fields_and_message():
    body = {"errcode": 40014, "errmsg": "不合法的access_token", "request_id": "r1",
            "sub_code": "s", "sub_msg": "m"}
    error = error_for(body, http_status=200, path="/topapi/v2/user/get")
    assert (error.errcode, error.errmsg, error.request_id) == (40014, "不合法的access_token", "r1")
    assert (error.sub_code, error.sub_msg, error.http_status) == ("s", "m", 200)
    assert "40014" in str(error) and "/topapi/v2/user/get" in str(error)
    assert error.body == body


@pytest.mark.parametrize(
    ("sub_code", "sub_msg", "cls"),
    [
        ("40014", "", TokenError),
        ("isv.invalid-access-token", None, TokenError),
        (None, "不合法的access_token", TokenError),
        ("853004", "signature mismatch", SignatureError),
        ("isv.permission-denied", "no", PermissionDenied),
        (None, None, PermissionDenied),
    ],
)
def test_errors_errcode_88_uses_sub_code(sub_code, sub_msg, cls):
    body = {"errcode": 88, "errmsg": "鉴权异常", "sub_code": sub_code, "sub_msg": sub_msg}
    assert type(error_for(body)) is cls


def test_errors_ip_ban_body_is_rate_limited():
    body = {"status": 1111, "wait": 5, "source": "x5", "punish": "deny", "uuid": "u"}
    assert errors.is_ip_ban(body)
    error = error_for(body)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 300.0
    assert error.errcode is None


def test_errors_90018_hints_one_second():
    assert error_for({"errcode": 90018, "errmsg": "qps"}).retry_after == 1.0


def test_errors_new_api_string_codes():
    body = {"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "R"}
    error = error_for(body, http_status=400)
    assert isinstance(error, TokenError)
    assert (error.sub_code, error.request_id, error.http_status) == (
        "InvalidAuthentication", "R", 400)
    qps = {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "x"}
    assert isinstance(error_for(qps, http_status=403), RateLimited)


def test_errors_unknown_code_on_5xx_is_transient():
    assert type(error_for({"errcode": 77777}, http_status=502)) is TransientApiError


def test_errors_tree_shape():
    for cls in (TokenError, RateLimited, QuotaExceeded, TransientApiError, PermissionDenied,
                NotFound, InvalidRequest, SignatureError):
        assert issubclass(cls, ApiError)
    assert issubclass(ApiError, DingTalkError)
    assert issubclass(ServerError, TransportError)
    assert errors.TimeoutError_ is errors.DingTalkTimeout
    assert issubclass(errors.DingTalkTimeout, TransportError)
    assert issubclass(MessageError, ValueError) and issubclass(MessageError, DingTalkError)
    assert issubclass(errors.CallbackDecryptError, errors.CallbackError)


def test_errors_errcode_sets_are_disjoint():
    sets = [errors.TOKEN_ERRCODES, errors.RATE_LIMIT_ERRCODES, errors.QUOTA_ERRCODES,
            errors.TRANSIENT_ERRCODES, errors.PERMISSION_ERRCODES, errors.NOT_FOUND_ERRCODES,
            errors.INVALID_REQUEST_ERRCODES, errors.SIGNATURE_ERRCODES]
    seen: set[int] = set()
    for codes in sets:
        assert not (seen & codes)
        seen |= codes
    assert 0 not in seen and errors.AUTH_ERRCODE not in seen


def test_errors_missing_answer_field_is_bad_response_not_key_error():
    from dingtalk.api._base import required

    assert required({"errcode": 0, "task_id": 7}, "task_id", "p") == 7
    with pytest.raises(errors.BadResponse, match="p: successful answer has no task_id") as caught:
        required({"errcode": 0}, "task_id", "p")
    assert isinstance(caught.value, TransportError) and caught.value.path == "p"


def test_errors_pickle_round_trip():
    error = error_for({"errcode": 90018, "errmsg": "qps", "request_id": "r"}, path="/p")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is RateLimited
    assert (again.errcode, again.request_id, again.path, again.retry_after) == (
        90018, "r", "/p", 1.0)
    assert str(again) == str(error)
    server = pickle.loads(pickle.dumps(ServerError("HTTP 502", status_code=502, path="/x")))
    assert server.status_code == 502 and str(server) == "HTTP 502"


# RetryPolicy is pure logic over this error tree (sleep and random injected): which errors a
# retry may fix, and how long it waits.


class Flaky:
    def __init__(self, *failures):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def make_policy(**kw):
    sleeps = []
    policy = RetryPolicy(sleep=sleeps.append, random=lambda: 1.0, **kw)
    return policy, sleeps


def test_errors_retry_idempotent_transient_succeeds():
    policy, sleeps = make_policy()
    fn = Flaky(ServerError("HTTP 502", status_code=502), error_for({"errcode": -1}))
    assert policy.call(fn, idempotent=True) == "ok"
    assert fn.calls == 3 and sleeps == [0.2, 0.4]


def test_errors_retry_is_bounded():
    policy, sleeps = make_policy(max_attempts=3)
    fn = Flaky(*[errors.DingTalkTimeout("t") for _ in range(5)])
    with pytest.raises(errors.DingTalkTimeout):
        policy.call(fn, idempotent=True)
    assert fn.calls == 3 and len(sleeps) == 2


def test_errors_retry_never_for_non_idempotent():
    policy, sleeps = make_policy()
    fn = Flaky(errors.ConnectionFailed("c"))
    with pytest.raises(errors.ConnectionFailed):
        policy.call(fn, idempotent=False)
    assert fn.calls == 1 and sleeps == []


@pytest.mark.parametrize("errcode", [40014, 60011, 40035, 853002, 90020, 123456])
def test_errors_retry_not_for_api_errors_a_retry_cannot_fix(errcode):
    policy, sleeps = make_policy()
    fn = Flaky(error_for({"errcode": errcode}))
    with pytest.raises(ApiError):
        policy.call(fn, idempotent=True)
    assert fn.calls == 1 and sleeps == []


def test_errors_retry_backoff_capped_and_jittered():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: 0.5)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.5, 2.5]


def test_errors_retry_honours_retry_after():
    policy, sleeps = make_policy(base_delay=0.01)
    fn = Flaky(error_for({"errcode": 90018}))
    assert policy.call(fn, idempotent=True) == "ok"
    assert sleeps == [1.0]
    ban = Flaky(error_for({"status": 1111, "wait": 5}))
    with pytest.raises(RateLimited):
        policy.call(ban, idempotent=True)
    assert ban.calls == 1
