"""Benchmark: the REST API (/api/v1/) under gunicorn; prints figures.

Everything is the bench's own: a throwaway PostgreSQL database dingsuite_apibench_<random> on
DATABASE_URL's server (migrated, dropped at the end), a private redis-server on a free port
(cache, throttle counts, broker: the shared Redis is never touched), a DingTalk emulator
(python -m dingtalk.emulator over HTTP, its rate limits off: this measures dingsuite, not
DingTalk's throttling) and dingsuite served by gunicorn with deploy/gunicorn.conf.py on
config.settings.production (gthread: --workers processes x --gunicorn-threads threads). The
bench process builds the world through dingsuite's services (bench/_delivery_stack.py: a suite
registered with its ticket, --tenants corps authorized at the emulator, each with --recipients
active users) and makes one API key of the suite with a throttle far above the load.

Then --threads client threads (one requests.Session each, keep-alive) in a closed loop, for
--duration seconds each:
(1) POST /api/v1/tenants/<corp>/notifications/ {"userid_list": [--recipients userids],
    "msg": {"msgtype": "text", ...}}: notifications created per second (201s). Creation only:
    no Celery worker runs, so the planning tasks wait in the private Redis (sending is
    measured by bench/delivery.py). Afterwards the database is asked how many notifications and
    recipients exist: they must match the 201s.
(2) GET /api/v1/tenants/<corp>/: latency p50/p99 (database only).
(3) A directory read, GET /api/v1/tenants/<corp>/users/<userid>/ (falling back to the
    departments list when the schema has no such route): latency p50/p99; each request goes
    through to the emulator over HTTP (DingTalk's user/get), with the tenant's cached token.
The client threads share the machine's cores with gunicorn, PostgreSQL and the emulator;
the figures are for that whole machine.

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --duration 10 --threads 16 --workers 3
    make bench-api BENCH_ARGS="--duration 30"
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import _callbacks_stack as stack
import _delivery_stack as ds
import requests
from _callbacks_stack import OwnRedis, drop_database


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds of each measurement (default 20)")
    parser.add_argument("--threads", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="gunicorn worker processes (default cores + 1, deploy/'s rule)")
    parser.add_argument("--gunicorn-threads", type=int, default=4,
                        help="threads per gunicorn worker (default 4, deploy/'s)")
    parser.add_argument("--tenants", type=int, default=2, help="tenants the load is spread over")
    parser.add_argument("--recipients", type=int, default=10,
                        help="userids per notification (default 10)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if min(args.duration, args.threads, args.workers, args.gunicorn_threads, args.tenants,
           args.recipients) <= 0:
        parser.error("every figure must be positive")
    return args


@dataclass
class Target:
    corp_id: str
    userids: list[str]


@dataclass
class Run:
    """What the client threads of one measurement saw."""

    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: Counter = field(default_factory=Counter)  # status code or exception name
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ok: bool, seconds: float, what: str) -> None:
        with self.lock:
            if ok:
                self.latencies.append(seconds)
            else:
                self.errors[what] += 1


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def closed_loop(name: str, base: str, key: str, threads: int, duration: float,
                request) -> Run:
    """`threads` threads each sending request(session, base, thread, i) -> (response, ok)
    back to back until `duration` is up."""
    run = Run(name)
    start = threading.Barrier(threads + 1)
    stop_at: list[float] = []

    def client(index: int) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            start.wait()
            i = 0
            while time.monotonic() < stop_at[0]:
                t0 = time.perf_counter()
                try:
                    response, ok = request(session, base, index, i)
                    what = str(response.status_code)
                except requests.RequestException as exc:
                    ok, what = False, type(exc).__name__
                run.record(ok, time.perf_counter() - t0, what)
                i += 1

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    stop_at.append(time.monotonic() + duration)
    began = time.monotonic()
    start.wait()
    for worker in workers:
        worker.join()
    run.elapsed = time.monotonic() - began
    return run


def report(run: Run, unit: str) -> None:
    done = len(run.latencies)
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(run.errors.items())) or "none"
    print(f"  {run.name}: {done:,} {unit} in {run.elapsed:.1f} s = {done / run.elapsed:,.1f}/s; "
          f"latency p50 {quantile(run.latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {quantile(run.latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(run.latencies, default=float('nan')) * 1000:.1f} ms; errors {errors}",
          flush=True)


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def build_world(emu, tenants: int, recipients: int) -> tuple[list[Target], str, list]:
    """Tenants of one suite at the emulator with active users, and a key of the suite."""
    from api.services.keys import api_key_create

    made = [ds.corp_with_active_users(emu, recipients) for _ in range(tenants)]
    suite, rows = ds.suite_with_tenants(emu, [corp for corp, _ in made])
    # A throttle far above the load: the bench measures the API, not its 429s.
    key = api_key_create(name="api bench", suite=suite, throttle_rate="100000000/min")
    targets = [Target(corp["corp_id"], userids) for corp, userids in made]
    return targets, key.plaintext, rows


def directory_route(base: str, target: Target) -> tuple[str, str]:
    """(description, path) of the directory read to time: a user's detail if the schema has
    it, else the departments list."""
    schema = requests.get(f"{base}/api/schema/", timeout=30,
                          headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    if "/api/v1/tenants/{corp_id}/users/{userid}/" in schema["paths"]:
        return ("GET /api/v1/tenants/<corp>/users/<userid>/",
                f"/api/v1/tenants/{target.corp_id}/users/{target.userids[0]}/")
    return ("GET /api/v1/tenants/<corp>/departments/",
            f"/api/v1/tenants/{target.corp_id}/departments/")


def measure(args, base: str, key: str, targets: list[Target], rows: list) -> None:
    from messaging.models import Notification

    run_tag = secrets.token_hex(3)

    def create(session, url, index, i):
        target = targets[(index + i) % len(targets)]
        body = {"userid_list": target.userids,
                "msg": {"msgtype": "text", "text": {"content": f"api bench {run_tag} {index}-{i}"}}}
        response = session.post(f"{url}/api/v1/tenants/{target.corp_id}/notifications/",
                                json=body, timeout=30)
        return response, response.status_code == 201

    def tenant_detail(session, url, index, i):
        target = targets[(index + i) % len(targets)]
        response = session.get(f"{url}/api/v1/tenants/{target.corp_id}/", timeout=30)
        return response, response.status_code == 200

    routes = {t.corp_id: directory_route(base, t) for t in targets}
    described = routes[targets[0].corp_id][0]

    def directory(session, url, index, i):
        target = targets[(index + i) % len(targets)]
        response = session.get(f"{url}{routes[target.corp_id][1]}", timeout=30)
        return response, response.status_code == 200

    # Warm-up: each process imports lazily and each tenant's token is fetched once.
    for n in range(args.workers * args.gunicorn_threads * 2):
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            tenant_detail(session, base, n, 0)
            directory(session, base, n, 0)

    created = closed_loop("create notification", base, key, args.threads, args.duration, create)
    # Recipient rows are planned by a Celery task (none runs here): count the userids asked for.
    asked = [len(u) for u in Notification.objects.filter(tenant__in=rows)
             .values_list("userids", flat=True)]
    detail = closed_loop("GET tenant detail", base, key, args.threads, args.duration,
                         tenant_detail)
    reads = closed_loop(f"directory read ({described})", base, key, args.threads,
                        args.duration, directory)
    print(f"\nfigures ({args.threads} client threads, closed loop, {args.duration:g} s each; "
          f"load average now {_load()}):")
    report(created, f"notifications of {args.recipients} recipients created")
    print(f"    the database holds {len(asked):,} notifications (201s: "
          f"{len(created.latencies):,}) asking for {sum(asked):,} recipients "
          f"({args.recipients} each: {len(asked) * args.recipients:,} expected)")
    report(detail, "answers")
    report(reads, "answers")
    if len(asked) != len(created.latencies) or sum(asked) != len(asked) * args.recipients:
        print("  MISMATCH: the database and the 201s disagree", flush=True)


def main() -> None:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the ExitStack stops everything this bench started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    workdir = Path(tempfile.mkdtemp(prefix="dingsuite-apibench-"))
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as cleanup:
            own_redis = OwnRedis(workdir / "redis.log")
            cleanup.callback(own_redis.stop)
            db_url = stack.create_database(base_db, prefix="dingsuite_apibench")
            cleanup.callback(drop_database, db_url, base_db)
            emulator = ds.Emulator(workdir, "api", quotas={}, rate_limits=False)
            cleanup.callback(emulator.stop)
            port = stack.free_port()
            env = dict(ds.django_env(db_url, own_redis.url), DINGTALK_BASE_URL=emulator.url,
                       GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(args.workers),
                       GUNICORN_THREADS=str(args.gunicorn_threads), LOG_LEVEL="WARNING")
            stack.manage(env, "migrate", "--noinput")
            ds.django_setup(env)
            from django.db import connections

            cleanup.callback(connections.close_all)
            targets, key, rows = build_world(emulator.control, args.tenants, args.recipients)
            gunicorn = stack.start_gunicorn(env, port, workdir / "gunicorn.log")
            cleanup.callback(stack.stop_process, gunicorn)
            print(f"api bench: {os.cpu_count()} CPUs; gunicorn {args.workers} workers x "
                  f"{args.gunicorn_threads} threads (gthread, deploy/gunicorn.conf.py; workers "
                  f"= cores + 1 by default, as deploy/ runs it), config.settings.production; "
                  f"database {db_url.rsplit('/', 1)[-1]}, own redis-server :{own_redis.port}, "
                  f"emulator {emulator.url} (rate limits off); {args.tenants} tenants of one "
                  f"suite, one key; load average {_load()}; logs in {workdir}", flush=True)
            measure(args, f"http://127.0.0.1:{port}", key, targets, rows)
            print(f"{time.monotonic() - started:.0f} s in all")
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"stopped early ({type(exc).__name__}: {exc}); everything started was stopped, "
              "the database dropped", flush=True)
        raise
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
