"""QPS limits: per app per API (90018), per API overall (90002), and switching them off."""

from emulator_helpers import get, internal_app


def _burst(emulator, token, userid, n):
    return [get(emulator, "user/get", token, userid=userid)["errcode"] for _ in range(n)]


def test_per_app_qps_90018(emulator):
    corp, _, token = internal_app(emulator)
    emulator.set_config(app_api_qps=3)
    codes = _burst(emulator, token, corp["userids"][0], 20)
    # 20 quick calls span at most a few one-second windows of 3 each
    assert codes.count(90018) >= 20 - 3 * 4
    assert set(codes) <= {0, 90018}


def test_per_app_limit_is_per_api_and_per_app(emulator):
    corp, _, token = internal_app(emulator)
    other_corp, _, other = internal_app(emulator)
    emulator.set_config(app_api_qps=2, global_api_qps=0)
    codes = _burst(emulator, token, corp["userids"][0], 10)
    assert 90018 in codes
    assert get(emulator, "department/list_ids", token, id=1)["errcode"] == 0
    assert get(emulator, "user/get", other, userid=other_corp["userids"][0])["errcode"] == 0


def test_global_per_api_qps_90002(emulator):
    corp_a, _, token_a = internal_app(emulator)
    corp_b, _, token_b = internal_app(emulator)
    emulator.set_config(global_api_qps=4, app_api_qps=100)
    codes = []
    for _ in range(10):
        codes.append(get(emulator, "user/get", token_a, userid=corp_a["userids"][0])["errcode"])
        codes.append(get(emulator, "user/get", token_b, userid=corp_b["userids"][0])["errcode"])
    assert codes.count(90002) >= 20 - 4 * 4


def test_rate_limits_switch_off(emulator):
    corp, _, token = internal_app(emulator)
    emulator.set_config(app_api_qps=1, rate_limits_enabled=False)
    assert set(_burst(emulator, token, corp["userids"][0], 15)) == {0}


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_limiter_windows_are_exact_real_seconds():
    """Deterministic: n calls pass per second, the next one is refused, a new second resets."""
    from dingtalk.emulator.ratelimit import RateLimiter

    clock = FakeTime()
    limiter = RateLimiter(real=clock)
    check = dict(endpoint="user/get", app_qps=3, global_qps=5)
    assert [limiter.check(owner="a", **check) for _ in range(4)] == [None, None, None, 90018]
    assert limiter.check(owner="a", endpoint="user/list", app_qps=3, global_qps=5) is None
    assert limiter.check(owner="b", **check) is None  # the 5th call of user/get overall
    assert limiter.check(owner="c", **check) == 90002
    clock.now += 0.999
    assert limiter.check(owner="a", **check) == 90002
    clock.now += 0.001
    assert limiter.check(owner="a", **check) is None
    assert limiter.check(owner="a", endpoint="x", app_qps=0, global_qps=0) is None  # 0 = off
