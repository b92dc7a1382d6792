"""bench/faults.py's private PostgreSQL (initdb + pg_ctl in a temp dir) and its outage run.

The machine's shared PostgreSQL is never stopped: this server lives in its own directory, on a
free port, and is the only one `pg_ctl stop` is ever pointed at.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import _callbacks_stack as stack
import psycopg
import requests
from _callbacks_stack import alnum, free_port
from _faults_http import Case, request_bytes, send
from _faults_logs import classify
from _faults_signed import Signed, SuiteInfo, push_request, ticket


class PrivatePostgres:
    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise SystemExit("no /usr/lib/postgresql/*/bin/pg_ctl: cannot run a private server")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        if self.port == 5432:
            raise SystemExit("free_port() gave 5432: refusing to go near the shared server")
        self.dir = Path(tempfile.mkdtemp(prefix="dingsuite-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.running = False
        # initdb refuses root: run the server's tools as the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, user="postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{tool} failed: {done.stderr[-1500:] or done.stdout[-1500:]}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "immediate") -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
            self.running = False

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def serving(env: dict[str, str], port: int, log_path: Path):
    """gunicorn as bench/callbacks.py runs it, stopped on any exit -- also one that arrives
    while it is still starting (stack.start_gunicorn would leave it running then)."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [stack.PYTHON, "-m", "gunicorn", "-c", str(stack.ROOT / "deploy" / "gunicorn.conf.py"),
             "config.wsgi"], env=env, cwd=stack.ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {log_path}")
            time.sleep(0.2)
        yield proc
    finally:
        stack.stop_process(proc)


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def wait_for_flush(path: Path, settle: float = 0.5, limit: float = 5.0) -> bytes:
    """The log once it stops growing (gunicorn writes from several processes)."""
    deadline, last = time.monotonic() + limit, -1
    while time.monotonic() < deadline:
        size = path.stat().st_size
        if size == last:
            break
        last = size
        time.sleep(settle)
    return path.read_bytes()


def outage_run(pg: PrivatePostgres, redis_url: str, *, pushes: int = 50) -> dict:
    """A gunicorn on the private server: pushes before, during and after `stop -m immediate`."""
    name = f"dingsuite_faults_{secrets.token_hex(4)}"
    db_url = pg.create_database(name)
    port = free_port()
    env = stack.server_env(db_url, redis_url, 2, port)
    stack.manage(env, "migrate", "--noinput")
    suite = SuiteInfo(f"suitefaultsdown{secrets.token_hex(2)}", "14999999103", "http",
                      alnum(40), alnum(24), alnum(43))
    stack.manage(dict(env, DINGTALK_SUITE_SECRET=suite.secret,
                      DINGTALK_CALLBACK_TOKEN=suite.token,
                      DINGTALK_ENCODING_AES_KEY=suite.aes_key),
                 "register_suite", "--suite-key", suite.key, "--push-style", "http")
    log_path = stack.ROOT / "var" / "bench-faults-pgdown-gunicorn.log"
    out = {"tickets": [], "suite": suite, "env": env, "log": log_path}
    with serving(env, port, log_path):
        out["before"] = Counter(_push(port, suite, out["tickets"])[0] for _ in range(5))
        offset = wait_for_flush(log_path).__len__()
        pg.stop("immediate")
        down = [_push(port, suite, out["tickets"]) for _ in range(pushes)]
        out["down_status"] = Counter(status for status, _code, _ms in down)
        out["down_code"] = Counter(code for _status, code, _ms in down)
        out["down_max_ms"] = max(ms for _s, _c, ms in down)
        out["down_lines"] = classify(wait_for_flush(log_path)[offset:])
        out["down_sample"] = [line for line in wait_for_flush(log_path)[offset:].split(b"\n")
                              if line and not line.startswith(b"127.0.0.1")][:3]
        pg.start()
        out["after"] = _recover(port, suite, out["tickets"])
        with psycopg.connect(db_url) as conn:
            out["rows"] = conn.execute("SELECT count(*) FROM tenants_callbackevent").fetchone()[0]
    return out


def _push(port: int, suite: SuiteInfo, tickets: list[str]) -> tuple[int | str, str, float]:
    """(status, body code or "success", ms) of one valid suite_ticket push."""
    value = f"tkt{alnum(29)}"
    tickets.append(value)
    query, body = push_request(suite, Signed("outage", ticket(suite.key, value,
                                                              int(time.time() * 1000))))
    answer = send(port, request_bytes(Case("outage", query=query, body=body),
                                      f"/callbacks/{suite.key}/", port), timeout=15)
    try:
        document = json.loads(answer.body)
    except ValueError:
        return answer.status, "not JSON", answer.ms
    code = document.get("code") or ("success" if _is_success(suite, document) else "?")
    return answer.status, code, answer.ms


def _is_success(suite: SuiteInfo, reply: dict) -> bool:
    try:
        return suite.crypto().verify_and_decrypt(
            signature=reply["msg_signature"], timestamp=reply["timeStamp"],
            nonce=reply["nonce"], encrypt=reply["encrypt"]) == "success"
    except Exception:  # noqa: BLE001 -- anything unreadable is not success
        return False


def _recover(port: int, suite: SuiteInfo, tickets: list[str]) -> dict:
    """Pushes every 0.5 s after the restart until 3 in a row are answered success (30 tries)."""
    started, streak, tries, failures = time.monotonic(), 0, 0, Counter()
    while tries < 30 and streak < 3:
        tries += 1
        status, code, _ms = _push(port, suite, tickets)
        if status == 200 and code == "success":
            streak += 1
        else:
            streak = 0
            failures[f"{status} {code}"] += 1
            time.sleep(0.5)
    return {"recovered": streak >= 3, "tries": tries, "failures": failures,
            "seconds": time.monotonic() - started}
