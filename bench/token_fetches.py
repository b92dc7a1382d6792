"""Token fetches per tenant per expiry window across 8 processes: shared store vs per-process.

Starts an emulator in-process (rate limits off), a throwaway PostgreSQL database (migrated),
one SyncHTTP suite and 10 authorized tenants. Then, for each mode, 8 OS processes x N threads
call user/get for every tenant, window after window, while the parent advances the emulator's
clock past the 7200 s token lifetime between windows (processes are synchronised with a
multiprocessing Barrier). Modes:

- shared: dingsuite's client_for (Redis lock + cache, PostgreSQL durable copy);
- per-process: the same calls through a per-process cache without the shared lock
  (dingtalk's InMemoryTokenStore in each process).

Prints get_corp_token fetches per tenant per window for both, and their ratio, with the
get_suite_token fetches beside them (the suite token every corp-token fetch of the legacy flow
needs; SyncHTTP suites sign instead, so few or none are expected).
Touches only what it starts: a database of its own on DATABASE_URL's server
(dingsuite_bench_tokens_<random>, dropped at the end) and a private redis-server on a free port
for the shared token store, so two runs at once do not meet.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TEST_KEYS = ("dGVzdC1rZXktbmV3ZXN0LW5vdC1zZWNyZXQtMzJieXQ=,"
             "dGVzdC1rZXktb2xkZXItbm90LXNlY3JldC0zMmJ5dGU=")


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _create_db(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _db_url(base, name)


def _drop_db(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def seed_main(env: dict, remote: dict, corps: list[dict]) -> None:
    """Child: register the suite, its ticket and the tenants in the bench database."""
    _django(env)
    from tenants.models import Tenant
    from tenants.services.suites import suite_register
    from tenants.services.tickets import suite_ticket_record

    suite = suite_register(suite_key=remote["suite_key"], suite_secret=remote["suite_secret"],
                           callback_token=remote["token"], encoding_aes_key=remote["aes_key"],
                           suite_id=str(remote["suite_id"]))
    suite_ticket_record(suite=suite, ticket=remote["ticket"], pushed_at_ms=remote["ticket_ms"])
    for corp in corps:
        Tenant.objects.create(suite=suite, corp_id=corp["corp_id"], agent_id=corp["agent_id"])


def _clients(mode: str, base_url: str):
    from dingtalk.credentials import SuiteCredentials
    from dingtalk.isv import SuiteApi
    from dingtalk.tokens import InMemoryTokenStore
    from tenants.models import Tenant
    from tenants.selectors.suites import suite_ticket_current
    from tenants.services.clients import client_for

    tenants = list(Tenant.objects.select_related("suite").order_by("pk"))
    if mode == "shared":
        return [client_for(t) for t in tenants]
    suite = tenants[0].suite
    ticket = suite_ticket_current(suite=suite)
    api = SuiteApi(SuiteCredentials(suite.suite_key, suite.suite_secret, lambda: ticket),
                   InMemoryTokenStore(), base_url=base_url)
    return [api.corp_client(t.corp_id) for t in tenants]


def _window(clients, userids, threads: int, errors: list) -> None:
    start = threading.Barrier(threads)

    def run(offset: int) -> None:
        start.wait()
        pairs = list(zip(clients, userids, strict=True))
        for client, userid in pairs[offset:] + pairs[:offset]:
            try:
                client.users.get(userid)
            except Exception as exc:  # counted and reported by the parent
                errors.append(type(exc).__name__)

    pool = [threading.Thread(target=run, args=(i % len(clients),)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def worker_main(env, mode, userids, windows, threads, barrier, results) -> None:
    """Child: build clients in `mode`, then one round of calls per expiry window."""
    _django(env)
    clients = _clients(mode, env["DINGTALK_BASE_URL"])
    errors: list[str] = []
    for _ in range(windows):
        barrier.wait(300)
        _window(clients, userids, threads, errors)
        barrier.wait(300)
    results.put(errors)


def _run_mode(ctl, env, mode, userids, args) -> tuple[int, int, list[str], float]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(args.processes + 1), ctx.Queue()
    procs = [ctx.Process(target=worker_main, args=(env, mode, userids, args.windows,
                                                   args.threads, barrier, results))
             for _ in range(args.processes)]
    for proc in procs:
        proc.start()
    ctl.reset_counters()
    started = time.perf_counter()
    for _ in range(args.windows):
        barrier.wait(300)
        barrier.wait(300)
        ctl.advance(7201)  # every corp token issued in this window is now expired
    errors = [e for _ in procs for e in results.get(timeout=300)]
    for proc in procs:
        proc.join(timeout=60)
    counted = ctl.counters()["token_fetches"]
    corp = sum(counted.get("get_corp_token", {}).values())
    suite = sum(counted.get("get_suite_token", {}).values())
    return corp, suite, errors, time.perf_counter() - started


def _setup_world(args):
    from dingtalk.emulator import EmulatorConfig, EmulatorControl, EmulatorServer

    server = EmulatorServer(EmulatorConfig(seed=7))
    base_url = server.start()
    ctl = EmulatorControl(base_url)
    ctl.set_config(rate_limits_enabled=False)
    remote = ctl.create_suite(push_style="sync_http")
    corps, userids = [], []
    for _ in range(args.tenants):
        corp = ctl.create_corp(users=3)
        auth = ctl.authorize(remote["suite_key"], corp["corp_id"])
        corps.append({"corp_id": corp["corp_id"], "agent_id": auth["agent_id"]})
        userids.append(corp["userids"][0])
    return server, ctl, remote, corps, userids


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--windows", type=int, default=3, help="token expiry windows")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from _callbacks_stack import OwnRedis

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    db_name = f"dingsuite_bench_tokens_{secrets.token_hex(4)}"
    (ROOT / "var").mkdir(exist_ok=True)
    own_redis = OwnRedis(ROOT / "var" / f"bench-tokens-redis-{db_name}.log")
    db_url = _create_db(base, db_name)
    server, ctl, remote, corps, userids = _setup_world(args)
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": db_url,
           "REDIS_URL": own_redis.url,
           "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS", TEST_KEYS),
           "DINGTALK_BASE_URL": ctl.base_url, "LOG_LEVEL": "WARNING"}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT,
                       env={**os.environ, **env}, check=True)
        seed = multiprocessing.get_context("spawn").Process(target=seed_main,
                                                            args=(env, remote, corps))
        seed.start()
        seed.join()
        per_window = args.tenants * args.windows
        print(f"{args.processes} processes x {args.threads} threads, {args.tenants} tenants, "
              f"{args.windows} expiry windows (user/get for every tenant in each window)")
        figures = {}
        for mode in ("shared", "per-process"):
            corp, suite, errors, wall = _run_mode(ctl, env, mode, userids, args)
            figures[mode] = corp / per_window
            print(f"  {mode:12s} get_corp_token fetches: {corp:4d} = "
                  f"{figures[mode]:.2f} per tenant per window; get_suite_token fetches: "
                  f"{suite:3d} = {suite / args.windows:.2f} per window; failed calls: "
                  f"{len(errors)}; {wall:.1f} s")
        ratio = figures["per-process"] / figures["shared"] if figures["shared"] else float("inf")
        print(f"  per-process / shared = {ratio:.1f}x more token fetches without the shared lock")
    finally:
        server.stop()
        own_redis.stop()
        _drop_db(base, db_name)


if __name__ == "__main__":
    main()
