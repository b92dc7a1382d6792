"""What bench/recovery.py starts, kills and stops: redis, emulator, gunicorn, beat, workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import _callbacks_stack as stack
import psycopg
import redis
import requests
from _callbacks_stack import PYTHON, ROOT

QUEUES = "callbacks,sends,polls,sync,default"


def create_database(base_url: str) -> str:
    """Create dingsuite_recovery_<random> on base_url's server; returns its URL."""
    return stack.create_database(base_url, prefix="dingsuite_recovery")


def spawn(cmd: list[str], env: dict[str, str] | None, log: Path) -> subprocess.Popen:
    """A child in a session of its own (so a kill reaches its whole process group)."""
    with log.open("a") as out:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_group(proc: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
    """Signal the process and everything in its group (a worker and its pool children)."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    if sig == signal.SIGKILL:
        proc.wait(timeout=10)


def stop_group(proc: subprocess.Popen | None, sig: int = signal.SIGTERM,
               grace: float = 10.0) -> None:
    """Ask politely, then SIGKILL the group after `grace` seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        kill_group(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    kill_group(proc, signal.SIGKILL)  # also the group's leftovers once the leader is gone


def wait_http(url: str, proc: subprocess.Popen, what: str, log: Path, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early; see {log}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not answer within {timeout:.0f} s; see {log}")


class PrivateRedis:
    """A redis-server of the bench's own on a fixed free port, restartable on that port.

    AOF on, as deploy/ runs it: a restart keeps queued messages and kombu's unacked table.
    """

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise SystemExit("redis-server not found on PATH: the bench runs its own Redis")
        self.port = stack.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="redis-", dir=workdir))
        self.log = workdir / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = spawn([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "yes", "--dir", str(self.dir)],
                          None, self.log)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"redis-server did not start; see {self.log}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        stop_group(self.proc, signal.SIGTERM, grace=10)
        self.proc = None


class Emulator:
    """python -m dingtalk.emulator on a free port, without rate limits (faults are the test)."""

    def __init__(self, workdir: Path) -> None:
        port = stack.free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / "emulator.log"
        self.proc = spawn([PYTHON, "-m", "dingtalk.emulator", "--port", str(port),
                           "--no-rate-limits", "--log-level", "WARNING"],
                          dict(os.environ, PYTHONPATH=str(ROOT)), self.log)
        wait_http(f"{self.url}/_emulator/clock", self.proc, "the emulator", self.log)

    def stop(self) -> None:
        stop_group(self.proc)


class Celery:
    """Celery beat and worker processes on the bench's settings; workers can be SIGKILLed."""

    def __init__(self, env: dict[str, str], workdir: Path, concurrency: int) -> None:
        self.env, self.workdir, self.concurrency = env, workdir, concurrency
        self.started = 0
        self.worker: subprocess.Popen | None = None
        self.beat_log = workdir / "beat.log"
        self.beat = spawn([PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                           "--schedule", str(workdir / "celerybeat-schedule")],
                          env, self.beat_log)

    @property
    def worker_log(self) -> Path:
        return self.workdir / f"worker-{self.started}.log"

    def start_worker(self) -> subprocess.Popen:
        self.started += 1
        self.worker = spawn(
            [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", QUEUES,
             "-n", f"recovery{self.started}@%h", "--loglevel=INFO",
             f"--concurrency={self.concurrency}"], self.env, self.worker_log)
        return self.worker

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker logs 'ready' (it consumes from then on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise SystemExit(f"the worker exited at start; see {self.worker_log}")
            if " ready." in self.worker_log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise SystemExit(f"the worker was not ready within {timeout:.0f} s")

    def kill_worker(self) -> None:
        kill_group(self.worker, signal.SIGKILL)

    def stop(self) -> None:
        stop_group(self.worker, signal.SIGTERM, grace=15)
        stop_group(self.beat, signal.SIGTERM, grace=10)


class Inbox:
    """Reads the bench database directly (status columns are plain; payloads are not read)."""

    def __init__(self, db_url: str) -> None:
        self.conn = psycopg.connect(db_url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def max_event_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM tenants_callbackevent"
                                 ).fetchone()[0]

    def events(self, suite_pk: int, corp_ids: list[str], after_id: int) -> list[tuple]:
        """(id, kind, corp_id, status, attempts, last_error, processed_at) of those corps."""
        return self.conn.execute(
            "SELECT id, kind, corp_id, status, attempts, last_error, processed_at "
            "FROM tenants_callbackevent WHERE suite_id = %s AND corp_id = ANY(%s) AND id > %s "
            "ORDER BY id", (suite_pk, corp_ids, after_id)).fetchall()

    def lease_left(self, suite_pk: int, corp_ids: list[str], after_id: int) -> tuple[float, float]:
        """Seconds until the first and the last lease of those corps' PROCESSING events ends."""
        low, high = self.conn.execute(
            "SELECT extract(epoch FROM min(lease_expires_at) - now()), "
            "extract(epoch FROM max(lease_expires_at) - now()) FROM tenants_callbackevent "
            "WHERE suite_id = %s AND corp_id = ANY(%s) AND id > %s AND status = 'processing'",
            (suite_pk, corp_ids, after_id)).fetchone()
        return float(low or 0), float(high or 0)

    def tenants(self, suite_pk: int, corp_ids: list[str]) -> dict[str, tuple]:
        """corp_id -> (status, updated_at)."""
        rows = self.conn.execute(
            "SELECT corp_id, status, updated_at FROM tenants_tenant "
            "WHERE suite_id = %s AND corp_id = ANY(%s)", (suite_pk, corp_ids)).fetchall()
        return {corp: (status, updated) for corp, status, updated in rows}

    def suite_pk(self, suite_key: str) -> int:
        return self.conn.execute("SELECT id FROM tenants_suite WHERE suite_key = %s",
                                 (suite_key,)).fetchone()[0]

    def has_ticket(self, suite_pk: int) -> bool:
        return bool(self.conn.execute("SELECT 1 FROM tenants_suiteticket WHERE suite_id = %s",
                                      (suite_pk,)).fetchone())
