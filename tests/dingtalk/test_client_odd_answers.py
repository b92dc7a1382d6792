"""Answers that are not plain errcodes, over real HTTP: errcode 88 + sub_code, IP ban, HTML."""

import pytest

from dingtalk.errors import BadResponse, PermissionDenied, RateLimited, TokenError
from tests.dingtalk.test_client_support import (  # noqa: F401 (world_fixture is a fixture)
    world_fixture,
)


def test_client_errcode_88_with_a_token_sub_code_refreshes_the_token_once(emulator, world):
    userid = world.userids(1)[0]
    world.client.users.get(userid)
    before = world.token_fetches()
    emulator.add_fault("user/get", errcode=88, sub_code="40014",
                       sub_msg="不合法的access_token", count=1)
    assert world.client.users.get(userid).userid == userid
    assert world.token_fetches() == before + 1


def test_client_errcode_88_twice_with_a_token_sub_code_raises(emulator, world):
    emulator.add_fault("user/get", errcode=88, sub_code="40014", count=2)
    with pytest.raises(TokenError) as caught:
        world.client.users.get(world.userids(1)[0])
    assert caught.value.sub_code == "40014"


def test_client_errcode_88_with_another_reason_is_a_permission_error(emulator, world):
    emulator.add_fault("user/get", errcode=88, sub_code="60011", sub_msg="没有调用该接口的权限")
    with pytest.raises(PermissionDenied) as caught:
        world.client.users.get(world.userids(1)[0])
    assert (caught.value.errcode, caught.value.sub_code) == (88, "60011")


def test_client_ip_ban_is_rate_limited_and_not_waited_out(emulator, world):
    userid = world.userids(1)[0]
    world.client.users.get(userid)  # the token is cached before the ban
    emulator.add_fault("*", ip_ban=True)
    with pytest.raises(RateLimited) as caught:
        world.client.users.get(userid)
    # The ban lasts minutes: longer than the policy's max delay, so the client gives up at once
    # instead of holding a worker for five minutes.
    assert caught.value.retry_after >= 60
    assert world.sleeps.delays == []
    assert world.calls("user/get") == 2


def test_client_html_answer_is_a_bad_response_retried_on_reads(emulator, world):
    emulator.add_fault("user/get", raw_body="<html>gateway</html>")
    with pytest.raises(BadResponse):
        world.client.users.get(world.userids(1)[0])
    assert world.calls("user/get") == 3


def test_client_html_answer_once_is_survived_by_a_retry(emulator, world):
    emulator.add_fault("user/get", raw_body="<html>gateway</html>", count=1)
    userid = world.userids(1)[0]
    assert world.client.users.get(userid).userid == userid
    assert world.calls("user/get") == 2
