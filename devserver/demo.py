"""The demo world `make run` builds, the same on every run: a suite with three authorized corps
and an internal app, in the emulator and in dingsuite, plus an API key for each.

Emulator side (over its control API) here; dingsuite side in devserver/seed.py, run as a child
process with Django set up. Every step first looks whether it is done already, so a second
`make run` (the emulator's world reloaded from var/, the database kept) changes nothing.
These are throwaway values for the local emulator, never real credentials.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from dingtalk.emulator.control_client import EmulatorControl, EmulatorControlError

SUITE = {
    "suite_key": "suitedemo0000000001",
    "suite_id": "10000001",
    "app_id": "20000001",
    "suite_secret": "demo-suite-secret-for-the-local-emulator",
    "token": "demotoken",
    "aes_key": "a" * 43,
}
CORPS = (("dingdemo0000000000000000000000001", "Demo Corp"),
         ("dingdemo0000000000000000000000002", "Demo Trading"),
         ("dingdemo0000000000000000000000003", "Demo Logistics"))
USERS_PER_CORP = 50
# The README's "Using the library on its own" snippet names these: agent 123, user manager01.
APP = {"corp_id": CORPS[0][0], "appkey": "dingdemoapp00000001",
       "appsecret": "demo-app-secret-for-the-local-emulator-0001", "agent_id": 123,
       "name": "Demo internal app"}
MANAGER = {"userid": "manager01", "name": "Demo Manager", "depts": [1]}


@dataclass
class DemoWorld:
    suite_key: str
    corp_ids: list[str]
    app: dict
    api_key: str
    app_api_key: str
    sample_userids: list[str]


def _exists(call) -> bool:
    try:
        call()
    except EmulatorControlError:
        return False
    return True


def build_emulator_side(control: EmulatorControl, web_url: str) -> None:
    """The suite, the corps (one with user manager01) and the internal app, at the emulator."""
    suite_key = SUITE["suite_key"]
    if not _exists(lambda: control.get_suite(suite_key)):
        control.create_suite(
            suite_key=suite_key, suite_id=SUITE["suite_id"], suite_secret=SUITE["suite_secret"],
            token=SUITE["token"], aes_key=SUITE["aes_key"],
            callback_url=f"{web_url}/callbacks/{suite_key}/", push_style="sync_http")
    for index, (corp_id, name) in enumerate(CORPS):
        if not _exists(lambda c=corp_id: control.get_corp(c, users=False)):
            control.create_corp(corp_id=corp_id, name=name, users=USERS_PER_CORP, seed=index + 1)
    users = {u["userid"] for u in control.get_corp(APP["corp_id"])["users"]}
    if MANAGER["userid"] not in users:
        control.contact_change(APP["corp_id"], "user_add_org", user=MANAGER)
    if not _exists(lambda: control.get_app(APP["appkey"])):
        control.create_app(APP["corp_id"], name=APP["name"], appkey=APP["appkey"],
                           appsecret=APP["appsecret"], agent_id=APP["agent_id"])


def authorize_corps(control: EmulatorControl) -> None:
    """A fresh ticket, then each corp that has not authorized the suite yet authorizes it (the
    emulator pushes each authorization to dingsuite's callback URL)."""
    control.push_ticket(SUITE["suite_key"])
    for corp_id, _ in CORPS:
        if not _exists(lambda c=corp_id: control.get_auth(SUITE["suite_key"], c)):
            control.authorize(SUITE["suite_key"], corp_id)


# The app market, so the admin's entitlements page has something to show: the first corp bought
# the standard edition for a year, the second is on a 15-day trial, the third bought nothing.
GOODS = "DT_GOODS_DEMO_0001"
ORDERS = ((CORPS[0][0], {"item_code": "DT_GOODS_DEMO_STD", "item_name": "标准版",
                         "goods_code": GOODS, "max_of_people": 100, "min_of_people": 1}),
          (CORPS[1][0], {"item_code": "DT_GOODS_DEMO_STD", "item_name": "标准版",
                         "goods_code": GOODS, "charge_type": "TRYOUT", "max_of_people": 100,
                         "min_of_people": 1}))


def place_market_orders(control: EmulatorControl) -> None:
    """Each demo order once (the emulator pushes it; dingsuite verifies it with the order API
    before the corp's entitlement says so)."""
    for corp_id, order in ORDERS:
        if not control.market_orders(SUITE["suite_key"], corp_id=corp_id):
            control.market_order(SUITE["suite_key"], corp_id, **order)


def build_dingsuite_side(python: str, cwd, env: dict[str, str],
                         control: EmulatorControl) -> DemoWorld:
    """The suite, the internal app and the API keys in dingsuite (devserver/seed.py)."""
    request = {"suite": SUITE, "app": APP, "var_dir": env["DINGSUITE_VAR_DIR"]}
    done = subprocess.run([python, "-m", "devserver.seed"], cwd=cwd, env=env, check=True,
                          input=json.dumps(request), capture_output=True, text=True)
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return DemoWorld(suite_key=SUITE["suite_key"], corp_ids=[c for c, _ in CORPS], app=APP,
                     api_key=answer["api_key"], app_api_key=answer["app_api_key"],
                     sample_userids=[MANAGER["userid"],
                                     *control.get_corp(CORPS[0][0])["userids"][:2]])
