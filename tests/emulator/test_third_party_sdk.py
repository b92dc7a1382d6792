"""A DingTalk SDK written by someone else (007gzs's dingtalk-sdk 1.3.8) works against the emulator.

The SDK's import name is also `dingtalk`, so it is pip-installed into its own directory (once
per machine, kept under the virtualenv) and run in a subprocess whose sys.path holds that
directory and nothing of dingsuite's.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dingtalk.emulator import EmulatorControl

SDK = "dingtalk-sdk[cryptography]==1.3.8"
SCRIPT = Path(__file__).with_name("sdk_007gzs_script.py")


def _install_dir() -> Path:
    return Path(sys.prefix) / "dingsuite-test-cache" / "dingtalk-sdk-1.3.8"


@pytest.fixture(scope="session")
def sdk_dir() -> Path:
    """The SDK's install dir; installed on first use, under a lock against parallel runs."""
    target = _install_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "dingtalk" / "client" / "isv.py").exists():
            scratch = target.with_name(target.name + f".tmp{os.getpid()}")
            shutil.rmtree(scratch, ignore_errors=True)
            subprocess.run(  # noqa: S603 (fixed arguments)
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--target", str(scratch), SDK], check=True, timeout=300)
            shutil.rmtree(target, ignore_errors=True)
            scratch.rename(target)
    return target


def run_sdk(sdk_dir: Path, payload: dict) -> dict:
    # -S: no site-packages, so neither dingsuite's editable install nor its venv is importable.
    env = {"PYTHONPATH": str(sdk_dir), "PATH": os.environ.get("PATH", ""),
           "NO_PROXY": "127.0.0.1,localhost"}
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-S", str(SCRIPT)], input=json.dumps(payload), capture_output=True,
        text=True, env=env, cwd=sdk_dir, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def sdk_run(emulator_server, sdk_dir):
    """One SDK run (about a second) shared by the tests below, which only read its output."""
    emulator = EmulatorControl(emulator_server.base_url)
    emulator.reset()
    # Delivery at once: at the default 1,000 recipients/s, a progress read in the same
    # millisecond as the send (the SDK script reads right after it) still saw 0%.
    emulator.set_config(notices={"delivery_rate_per_s": 0})
    corp = emulator.create_corp(users=30)
    app = emulator.create_app(corp["corp_id"])
    world = emulator.get_corp(corp["corp_id"])
    # Someone below a sub-department, so parent paths have more than the root in them.
    user = next(u for u in world["users"] if u["active"] and u["depts"][0] != 1
                and world_dept(world, u["depts"][0])["parent_id"] != 1)
    result = run_sdk(sdk_dir, {"base_url": emulator.base_url, "corp": corp, "app": app,
                               "userid": user["userid"]})
    return user, app, world, result


def world_dept(world: dict, dept_id: int) -> dict:
    return next(d for d in world["departments"] if d["id"] == dept_id)


def test_the_sdk_is_the_third_party_one_not_ours(sdk_run, sdk_dir):
    *_, result = sdk_run
    assert result["sdk_file"].startswith(str(sdk_dir))


def test_sdk_internal_app_reads_contacts(sdk_run):
    first, _app, world, result = sdk_run
    internal = result["internal"]
    assert internal["user"]["userid"] == first["userid"]
    assert internal["user"]["name"] == first["name"]
    assert internal["user"]["mobile"] == first["mobile"]  # internal apps see mobile
    assert len(internal["departments"]) == len(world["departments"]) - 1  # all but the root
    top = sorted(d["id"] for d in world["departments"] if d["parent_id"] == 1)
    assert sorted(internal["list_ids"]) == top
    dept_id = internal["user"]["department"][0]
    assert internal["dept"]["id"] == dept_id
    parent = world_dept(world, dept_id)["parent_id"]
    assert internal["parents_by_dept"] == [dept_id, parent, 1]
    assert internal["parents_of_user"][0] == [dept_id, parent, 1]
    assert first["userid"] in internal["dept_member"]
    assert {u["userid"] for u in internal["simple_list"]} == set(internal["dept_member"])
    assert {u["userid"] for u in internal["listbypage"]} == set(internal["dept_member"])
    assert internal["count_all"] == len(world["users"])
    assert internal["count_active"] == sum(1 for u in world["users"] if u["active"])
    assert internal["by_unionid"] == first["userid"]
    assert internal["unknown_user"] == 60121


def test_sdk_refreshes_its_token_after_expiry(sdk_run):
    *_, result = sdk_run
    internal = result["internal"]
    assert internal["after_expiry"] == internal["user"]["userid"]
    assert internal["token_after_expiry"] != internal["token"]


def test_sdk_chat_and_work_notice(sdk_run):
    user, _app, world, result = sdk_run
    chat, notice = result["internal"]["chat"], result["internal"]["notice"]
    assert chat["chatid"] and chat["members"] == [u["userid"] for u in world["users"][:2]]
    assert chat["message_id"]
    assert chat["read_list"]["errcode"] == 0
    assert isinstance(notice["task_id"], int) and notice["request_id"]
    assert notice["progress"] == {"progress_in_percent": 100, "status": 2}
    assert notice["result"]["unread_user_id_list"] == [user["userid"]]
    assert result["internal"]["legacy_user"]


def test_sdk_isv_flow_with_its_own_crypto(sdk_run):
    user, app, _world, result = sdk_run
    isv = result["isv"]
    assert isv["cached_ticket"] == isv["ticket"]
    assert isv["auth_code_corp"] == app["corp_id"]
    assert isv["permanent_code_data"]["auth_corp_info"]["corpid"] == app["corp_id"]
    assert isv["permanent_code_data"]["permanent_code"]
    assert isv["activate"] == 0
    assert isv["auth_info"]["auth_corp_info"]["corpid"] == app["corp_id"]
    assert isv["agent"]["close"] == 1  # activated by the SDK's activate_suite
    assert isv["isv_user"]["userid"] == user["userid"]
    assert "mobile" not in isv["isv_user"]  # ISV tokens never see mobile
    assert isv["isv_scopes"]["auth_org_scopes"]["authed_dept"] == [1]
    assert isv["isv_chat"] == 60011
    assert isv["code_after_relieve"] is None  # the SDK handled suite_relieve
    # Every push (ticket, tmp_auth_code, relieve) was acknowledged by the SDK's reply.
    assert {p["event"] for p in isv["pushes"]} >= {"suite_ticket", "tmp_auth_code",
                                                   "suite_relieve"}
    assert all(p["status"] == "acknowledged" for p in isv["pushes"]), isv["pushes"]
