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
