"""What bench/callbacks.py starts and stops: its database, its own redis-server, gunicorn."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SUITE_KEY, SUITE_ID = "suitebench0001", "14999999001"


def alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def create_database(base_url: str, prefix: str = "dingsuite_bench") -> str:
    """Create <prefix>_<random> on DATABASE_URL's server; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_db(base_url, name)


def drop_database(bench_url: str, base_url: str) -> None:
    name = urlsplit(bench_url).path.lstrip("/")
    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class OwnRedis:
    """A private redis-server on a free port (never the shared one): broker and REDIS_URL.

    hang() SIGSTOPs it -- connections still open at the TCP level, nothing answers -- which is
    what a wedged Redis looks like to its clients; stop() always SIGCONTs before terminating.
    """

    def __init__(self, log_path: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server not found on PATH: the bench runs its own Redis")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="dingsuite-bench-redis-")
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = redis.Redis.from_url(self.url, socket_timeout=2)
        self.hung = False
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.RedisError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"redis-server did not start; see {log_path}") from None
                time.sleep(0.05)

    def hang(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)
            self.hung = True

    def resume(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.hung = False

    def queued(self) -> int:
        """Messages waiting in every queue (this Redis is the bench's own; routes may vary)."""
        return sum(int(self.client.llen(key)) for key in self.client.scan_iter(_type="list"))

    def stop(self) -> None:
        self.resume()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.client.close()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def server_env(db_url: str, redis_url: str, workers: int, port: int) -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=alnum(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode("ascii"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        LOG_LEVEL="INFO",
    )


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def register_suite(env: dict[str, str]) -> dict[str, str]:
    suite = {"token": alnum(24), "aes_key": alnum(43)}
    manage(dict(env, DINGTALK_SUITE_SECRET=alnum(40), DINGTALK_CALLBACK_TOKEN=suite["token"],
                DINGTALK_ENCODING_AES_KEY=suite["aes_key"]),
           "register_suite", "--suite-key", SUITE_KEY, "--suite-id", SUITE_ID,
           "--push-style", "sync_http", "--name", "bench")
    return suite


def start_gunicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    # A session of its own: Ctrl-C reaches the bench only, which stops gunicorn in order.
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "config.wsgi"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited early; see {log_path}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_process(proc)
    raise SystemExit(f"gunicorn did not answer within 30 s; see {log_path}")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat (0, 0 where there is none)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    # Gunicorn's quick shutdown: the figures are taken, and a graceful one would wait up to
    # graceful_timeout (30 s) on connections still held after an interrupted hang.
    proc.send_signal(signal.SIGQUIT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
