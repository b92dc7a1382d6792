"""Benchmark: signed callback pushes against dingsuite under gunicorn on PostgreSQL; prints figures.

Creates a throwaway database (<name>_bench) from DATABASE_URL, migrates it, registers a suite,
serves config.wsgi with gunicorn (production settings, deploy/gunicorn.conf.py) on a free port,
then fires concurrent signed pushes -- HTTP-style suite_ticket events and SyncHTTP biz_type 13
rows, each a new event -- and prints callbacks/second and p50/p99 latency, with p99 as a share
of DingTalk's deadline (1500 ms HTTP push, 1200 ms SyncHTTP). Celery's broker is Redis; no
worker runs, events are only enqueued. Finally runs bench/token_fetches.py if it exists.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dingsuite REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/callbacks.py [--count 4000] [--concurrency 16] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dingtalk.crypto import CallbackCrypto  # noqa: E402

PYTHON = sys.executable
DEADLINE_MS = {"http_ticket": 1500.0, "sync_row": 1200.0}
SUITE_KEY, SUITE_ID = "suitebench0001", "14999999001"
BROKER_DB = 15  # a Redis db of its own, flushed before and after


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(base_url: str) -> str:
    """Drop and create <name>_bench; returns its URL."""
    name = (urlsplit(base_url).path.lstrip("/") or "dingsuite") + "_bench"
    admin_url = _with_db(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_db(base_url, name)


def drop_database(bench_url: str, base_url: str) -> None:
    name = urlsplit(bench_url).path.lstrip("/")
    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(db_url: str, redis_url: str, workers: int, port: int) -> dict[str, str]:
    broker = _with_db(redis_url, str(BROKER_DB))
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=_alnum(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode("ascii"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        LOG_LEVEL="INFO",
    )


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def register_suite(env: dict[str, str]) -> dict[str, str]:
    suite = {"token": _alnum(24), "aes_key": _alnum(43)}
    manage(dict(env, DINGTALK_SUITE_SECRET=_alnum(40), DINGTALK_CALLBACK_TOKEN=suite["token"],
                DINGTALK_ENCODING_AES_KEY=suite["aes_key"]),
           "register_suite", "--suite-key", SUITE_KEY, "--suite-id", SUITE_ID,
           "--push-style", "sync_http", "--name", "bench")
    return suite


def start_gunicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "config.wsgi"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within 30 s; see {log_path}")


def build_pushes(crypto: CallbackCrypto, count: int, start_ms: int) -> list[tuple]:
    """(kind, query, body) for `count` distinct pushes, half tickets, half biz_type 13 rows."""
    pushes = []
    for i in range(count):
        stamp = start_ms + i
        if i % 2 == 0:
            kind = "http_ticket"
            plain = {"SuiteKey": SUITE_KEY, "EventType": "suite_ticket", "TimeStamp": stamp,
                     "SuiteTicket": f"ticket{i:08d}{_alnum(24)}"}
        else:
            kind = "sync_row"
            userid = f"user{i:07d}"
            biz = {"syncAction": "user_add_org", "userid": userid, "name": f"User {i}",
                   "department": [1], "active": True}
            plain = {"EventType": "SYNC_HTTP_PUSH_MEDIUM", "bizData": [{
                "gmt_create": stamp, "gmt_modified": stamp, "biz_type": 13, "open_cursor": 0,
                "subscribe_id": f"{SUITE_ID}_0", "id": i, "biz_id": userid, "status": 0,
                "biz_data": json.dumps(biz), "corp_id": f"dingbench{i % 10:02d}"}]}
        encrypt = crypto.encrypt(json.dumps(plain))
        nonce, ts = _alnum(8), str(stamp)
        query = {"signature": crypto.signature(ts, nonce, encrypt), "timestamp": ts,
                 "nonce": nonce}
        pushes.append((kind, query, json.dumps({"encrypt": encrypt})))
    return pushes


def fire(url: str, pushes: list[tuple], concurrency: int) -> tuple[list, float]:
    """Send every push from a thread pool; (results, wall seconds)."""
    local = threading.local()

    def send(push):
        kind, query, body = push
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.post(url, params=query, data=body, timeout=10,
                                headers={"Content-Type": "application/json"})
        elapsed = (time.perf_counter() - started) * 1000
        return kind, elapsed, response.status_code, response.text

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(send, pushes))
    return results, time.perf_counter() - started


def check_replies(crypto: CallbackCrypto, results: list) -> int:
    """How many replies are a 200 whose encrypted body decrypts to "success"."""
    good = 0
    for _kind, _ms, status, text in results:
        if status != 200:
            continue
        reply = json.loads(text)
        plain = crypto.verify_and_decrypt(signature=reply["msg_signature"],
                                          timestamp=reply["timeStamp"], nonce=reply["nonce"],
                                          encrypt=reply["encrypt"])
        good += plain == "success"
    return good


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(results: list, wall: float, good: int, stored: int, queued: int) -> None:
    latencies = [ms for _k, ms, _s, _t in results]
    print(f"pushes: {len(results)}  ok (200 + encrypted success): {good}  "
          f"stored events: {stored}  enqueued tasks: {queued}")
    print(f"throughput: {len(results) / wall:.0f} callbacks/s over {wall:.2f} s")
    print(f"latency all: p50 {percentile(latencies, .5):.1f} ms  "
          f"p99 {percentile(latencies, .99):.1f} ms  max {max(latencies):.1f} ms  "
          f"mean {statistics.fmean(latencies):.1f} ms")
    for kind, deadline in DEADLINE_MS.items():
        subset = [ms for k, ms, _s, _t in results if k == kind]
        p99 = percentile(subset, .99)
        print(f"  {kind:11s} n={len(subset)}  p50 {percentile(subset, .5):.1f} ms  "
              f"p99 {p99:.1f} ms = {p99 / deadline:.1%} of DingTalk's {deadline:.0f} ms deadline")


def count_rows(db_url: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        events = conn.execute("SELECT count(*) FROM tenants_callbackevent").fetchone()[0]
        tickets = conn.execute("SELECT count(*) FROM tenants_suiteticket").fetchone()[0]
    return events, tickets


def run_token_bench() -> None:
    script = ROOT / "bench" / "token_fetches.py"
    if not script.exists():
        print("\nbench/token_fetches.py not found: token fetch figures skipped")
        return
    print("\n== bench/token_fetches.py ==", flush=True)
    subprocess.run([PYTHON, str(script)], cwd=ROOT, check=False)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="pushes to time")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (gthread x4)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--skip-tokens", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    broker = redis.Redis.from_url(_with_db(redis_url, str(BROKER_DB)))
    broker.flushdb()
    db_url = create_database(base_db)
    port = _free_port()
    env = server_env(db_url, redis_url, args.workers, port)
    proc = None
    try:
        manage(env, "migrate", "--noinput")
        suite = register_suite(env)
        proc = start_gunicorn(env, port, ROOT / "var" / "bench-callbacks-gunicorn.log")
        crypto = CallbackCrypto(token=suite["token"], encoding_aes_key=suite["aes_key"],
                                key=SUITE_KEY)
        url = f"http://127.0.0.1:{port}/callbacks/{SUITE_KEY}/"
        start_ms = int(time.time() * 1000)
        fire(url, build_pushes(crypto, args.warmup, start_ms - 10_000_000), args.concurrency)
        pushes = build_pushes(crypto, args.count, start_ms)
        events_before, queued_before = count_rows(db_url)[0], broker.llen("default")
        print(f"dingsuite under gunicorn: {args.workers} gthread workers x 4 threads, "
              f"{os.cpu_count()} CPUs; {args.concurrency} client threads; PostgreSQL; "
              f"Redis broker (no Celery worker); load average before: "
              f"{os.getloadavg()[0]:.1f}")
        results, wall = fire(url, pushes, args.concurrency)
        events = count_rows(db_url)[0] - events_before
        queued = broker.llen("default") - queued_before
        report(results, wall, check_replies(crypto, results), events, queued)
        print(f"load average after: {os.getloadavg()[0]:.1f} (the client shares these CPUs)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        broker.flushdb()
        if not args.keep_db:
            drop_database(db_url, base_db)
    if not args.skip_tokens:
        run_token_bench()


if __name__ == "__main__":
    main()
