"""Smoke: the fixture serves gettoken and user/get over real HTTP."""

import requests


def test_skeleton_gettoken_then_user_get(emulator):
    corp = emulator.create_corp(users=10)
    app = emulator.create_app(corp["corp_id"])
    token = requests.get(f"{emulator.base_url}/gettoken",
                         params={"appkey": app["appkey"], "appsecret": app["appsecret"]}).json()
    assert token["errcode"] == 0
    body = requests.get(f"{emulator.base_url}/user/get",
                        params={"access_token": token["access_token"],
                                "userid": corp["userids"][0]}).json()
    assert body["userid"] == corp["userids"][0]
