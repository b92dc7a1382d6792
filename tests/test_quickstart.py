"""The README's first command: `make run` brings the whole system up on embedded defaults.

Runs the launcher (devserver/, what `make run` calls) with SQLite, the filesystem broker and the
emulator, exactly as a fresh clone would, on free ports and a temporary var dir. Checks that the
demo corps' authorizations travel emulator -> callback -> Celery worker -> database (eight of
them at once without a "database is locked"), that the README's library snippet works against
the running emulator, that a second run finds the same world, password and API key, that a port
in use is a clear error, and that Ctrl-C stops every child process.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dingtalk import AppCredentials, DingTalkClient, messages
from dingtalk.emulator.control_client import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_ENV_NAMES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                      "DINGTALK_BASE_URL", "FIELD_ENCRYPTION_KEYS", "DINGSUITE_ADMIN_PASSWORD")
SUITE_KEY = "suitedemo0000000001"

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _poll(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)  # polling a child process's outcome with a deadline
    raise AssertionError(f"timed out waiting for {what}")


def _query(db_path: Path, sql: str) -> list | None:
    if not db_path.exists():
        return None
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not migrated yet
        return None


class Launch:
    """One `python -m devserver` with its own ports and var dir; its output in launcher.log."""

    def __init__(self, var_dir: Path, web_port: int, emulator_port: int) -> None:
        self.var_dir, self.web_port, self.emulator_port = var_dir, web_port, emulator_port
        self.log_path = var_dir / f"launcher-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ENV_NAMES}
        env.update(DINGSUITE_VAR_DIR=str(var_dir), WEB_PORT=str(web_port),
                   EMULATOR_PORT=str(emulator_port), PYTHONUNBUFFERED="1")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_up(self) -> str:
        _poll(lambda: self.proc.poll() is not None or "dingsuite is up" in self.log,
              timeout=120, what="the launcher to come up")
        assert self.proc.poll() is None, self.log[-3000:]
        return self.log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            assert self.proc.wait(timeout=60) == 0, self.log[-3000:]
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def _summary_value(log: str, label: str) -> str:
    line = next(line for line in log.splitlines() if line.strip().startswith(label))
    return line.split()


def test_quickstart_run_brings_up_the_demo_keeps_it_and_stops_cleanly(tmp_path):
    web_port, emulator_port = _free_port(), _free_port()
    db = tmp_path / "db.sqlite3"
    first = Launch(tmp_path, web_port, emulator_port)
    try:
        log = first.wait_up()
        health = requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=5)
        assert health.json() == {"status": "ok"}
        # The summary is printed after the demo corps are tenants, and names what it promises.
        assert _query(db, "SELECT count(*) FROM tenants_tenant WHERE kind='suite' "
                          "AND status='authorized'") == [(3,)]
        password = _summary_value(log, "admin")[-1]
        api_key = _summary_value(log, "API key")[-1]
        assert "Traceback" not in log and "Warning" not in log
        login = requests.post(f"http://127.0.0.1:{web_port}/admin/login/", timeout=5)
        assert login.status_code in (200, 403)  # the page answers (CSRF refuses a bare POST)
        tenants = requests.get(f"http://127.0.0.1:{web_port}/api/v1/tenants/", timeout=5,
                               headers={"Authorization": f"Bearer {api_key}"}).json()
        assert len(tenants["results"]) == 3
        # The demo's market orders, verified with the emulator's order API, are entitlements;
        # and every corp's directory is mirrored (both on SQLite: portable statements).
        corps = sorted(t["corp_id"] for t in tenants["results"])
        bearer = {"Authorization": f"Bearer {api_key}"}

        def tenant_get(corp: str, path: str) -> dict:
            return requests.get(f"http://127.0.0.1:{web_port}/api/v1/tenants/{corp}/{path}",
                                timeout=5, headers=bearer).json()

        kinds = _poll(lambda: (lambda k: k if k == ["paid", "trial", "none"] else None)(
            [tenant_get(corp, "entitlement/")["kind"] for corp in corps]),
            timeout=60, what="the demo orders' entitlements")
        assert kinds == ["paid", "trial", "none"]
        mirrored = _poll(lambda: all(tenant_get(corp, "directory/state/")["fresh"]
                                     for corp in corps) or None,
                         timeout=60, what="the demo corps' directories mirrored")
        assert mirrored and tenant_get(corps[0], "directory/state/")["user_count"] >= 50

        # The summary's notification, sent through the API, reaches its outcomes on SQLite
        # (pacing, sending, polling and settling have portable statements there).
        corp_id = _summary_value(log, "suite")[3].rstrip(",")
        users = [u.strip('"[],') for u in log.split('"userid_list": [', 1)[1]
                 .split("]", 1)[0].split(", ")]
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {api_key}"
        base = f"http://127.0.0.1:{web_port}/api/v1/tenants/{corp_id}/notifications/"
        created = api.post(base, json={"userid_list": users, "msg": {
            "msgtype": "text", "text": {"content": "hello from the quickstart test"}}},
            timeout=10)
        assert created.status_code == 201, created.text
        url = f"{base}{created.json()['id']}/"
        done = _poll(lambda: (lambda b: b if b["status"] == "completed" else None)(
            api.get(url, timeout=10).json()), timeout=90, what="the notification completed")
        assert sum(done["counts"].get(o, 0) for o in ("read", "unread")) == len(users) == 3

        # Eight authorizations at once through the emulator: none fails on SQLite's lock.
        control = EmulatorControl(f"http://127.0.0.1:{emulator_port}")
        for i in range(5):
            corp = control.create_corp(users=3, corp_id=f"dingquick{i:023d}")
            control.authorize(SUITE_KEY, corp["corp_id"])
        _poll(lambda: _query(db, "SELECT count(*) FROM tenants_tenant WHERE kind='suite' "
                                 "AND status='authorized'") == [(8,)],
              timeout=90, what="eight tenants authorized")
        assert _query(db, "SELECT status, count(*) FROM tenants_callbackevent "
                          "WHERE status NOT IN ('done', 'ignored') GROUP BY status") == []

        # The README's "Using the library on its own" snippet, as written, with the printed app.
        app = _summary_value(log, "internal app")
        appkey, appsecret = app[app.index("appkey") + 1], app[app.index("appsecret") + 1]
        client = DingTalkClient(AppCredentials(appkey=appkey, appsecret=appsecret),
                                base_url=f"http://127.0.0.1:{emulator_port}")
        assert client.users.get("manager01").userid == "manager01"
        assert client.work_notices.send(agent_id=123, userids=["manager01"],
                                        msg=messages.text("hello")).task_id
    finally:
        first.stop()
    for port in (web_port, emulator_port):  # every child is gone with its parent
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0

    second = Launch(tmp_path, web_port, emulator_port)
    try:
        log = second.wait_up()
        assert _summary_value(log, "admin")[-1] == password
        assert _summary_value(log, "API key")[-1] == api_key
        control = EmulatorControl(f"http://127.0.0.1:{emulator_port}")
        # The emulator came back with its world: the eight authorizations, the demo app.
        assert control.get_auth(SUITE_KEY, "dingquick00000000000000000000004")
        assert _query(db, "SELECT count(*) FROM tenants_tenant WHERE kind='suite'") == [(8,)]
        client = DingTalkClient(AppCredentials(appkey=appkey, appsecret=appsecret),
                                base_url=f"http://127.0.0.1:{emulator_port}")
        assert client.users.get("manager01").name
    finally:
        second.stop()
    keys = json.loads((tmp_path / "demo-api-keys.json").read_text())
    assert keys["api_key"] == api_key
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0


def test_quickstart_worker_consumes_every_queue():
    from config.celery_routes import queue_names
    from devserver.launcher import WORKER_QUEUES

    assert sorted(WORKER_QUEUES) == sorted(queue_names(""))


def test_quickstart_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        launch = Launch(tmp_path, port, _free_port())
        assert launch.proc.wait(timeout=60) == 1
    out = launch.log.strip()
    assert out.splitlines()[-1] == (f"make run: port {port} on 127.0.0.1 is in use; stop what "
                                    "holds it or set WEB_PORT to a free port")
    assert "Traceback" not in out and "dingsuite is up" not in out
