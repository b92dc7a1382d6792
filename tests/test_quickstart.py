"""The README's first command: `make run` brings the whole system up on embedded defaults.

Runs the launcher (devserver/, what `make run` calls) with SQLite, the filesystem
broker and the emulator, exactly as a fresh clone would, on free ports and a temporary var dir;
then checks that the demo corp's authorization travelled emulator -> callback -> Celery worker
-> database, and that Ctrl-C stops every child process.
"""

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

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_ENV_NAMES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                      "DINGTALK_BASE_URL", "FIELD_ENCRYPTION_KEYS")


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


def _tenant_status(db_path: Path):
    if not db_path.exists():
        return None
    try:
        with sqlite3.connect(db_path) as conn:
            row = conn.execute("SELECT status FROM tenants_tenant").fetchone()
    except sqlite3.OperationalError:  # tables not migrated yet, or the file is locked
        return None
    return row[0] if row else None


@pytest.mark.integration
def test_quickstart_run_brings_up_the_system_and_authorizes_the_demo_corp(tmp_path):
    web_port, emulator_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ENV_NAMES}
    env.update(DINGSUITE_VAR_DIR=str(tmp_path), WEB_PORT=str(web_port),
               EMULATOR_PORT=str(emulator_port), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "launcher.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _poll(lambda: proc.poll() is not None or "dingsuite is up" in log_path.read_text(),
              timeout=120, what="the launcher to come up")
        assert proc.poll() is None, log_path.read_text()[-3000:]
        health = requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=5)
        assert health.json() == {"status": "ok"}
        status = _poll(lambda: _tenant_status(tmp_path / "db.sqlite3"), timeout=60,
                       what="the demo tenant to be authorized by the Celery worker")
        assert status == "authorized"
        admin = requests.get(f"http://127.0.0.1:{web_port}/admin/login/", timeout=5)
        assert admin.status_code == 200

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Every child is gone with its parent: nothing still listens on the ports.
    for port in (web_port, emulator_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
