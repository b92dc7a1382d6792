"""get_jsapi_ticket fetches per tenant per expiry window while 8 processes x 25 threads ask for
dd.config for 10 tenants, the clocks passing the ticket's expiry between windows.

Starts an emulator in-process (rate limits off), a throwaway PostgreSQL database (migrated), a
private redis-server, one SyncHTTP suite and 10 authorized tenants. For each ticket behaviour
(current: the same ticket extended; legacy: every fetch replaces the ticket), 8 OS processes x
25 threads call identity.services.jsapi.jsapi_config for every tenant, window after window;
between windows the parent moves dingsuite's clock (a clock file of its own, which the
children read) and the emulator's past the 7200 s ticket lifetime. Processes are synchronised
with a multiprocessing Barrier, never with sleeps. Prints get_jsapi_ticket calls per tenant
per window (counted by the emulator), configs signed, failures, and how many sampled configs
(one per tenant per process per window) the emulator's container check accepted.

Touches only what it starts: a database of its own on DATABASE_URL's server
(dingsuite_bench_jsapi_<random>, dropped at the end), a private redis-server and a clock file.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from token_fetches import TEST_KEYS, _create_db, _drop_db, seed_main  # noqa: E402

PAGE = "https://h5.example.com:8443/app/index.html?corpId={corp}&n={n}#/home"


def _ask(tenants, offset, per_thread, start, out, lock) -> None:
    from identity.services.jsapi import jsapi_config

    start.wait()
    for n in range(per_thread):
        for tenant in tenants[offset:] + tenants[:offset]:
            page = PAGE.format(corp=tenant.corp_id, n=n)
            try:
                config = jsapi_config(tenant=tenant, url=page)
            except Exception as exc:  # counted and reported by the parent
                with lock:
                    out["failures"].append(type(exc).__name__)
                continue
            with lock:
                out["ok"] += 1
                out["samples"][tenant.corp_id] = {
                    "url": page, "nonceStr": config.nonce_str, "timeStamp": config.timestamp,
                    "signature": config.signature, "agentId": config.agent_id}


def worker_main(env, windows, threads, per_thread, barrier, results) -> None:
    """Child: Django on the bench database, `threads` threads per window."""
    os.environ.update(env)
    import django

    django.setup()
    from tenants.models import Tenant

    tenants = list(Tenant.objects.select_related("suite").order_by("pk"))
    for _ in range(windows):
        barrier.wait(300)
        out, lock = {"ok": 0, "failures": [], "samples": {}}, threading.Lock()
        start = threading.Barrier(threads)
        pool = [threading.Thread(target=_ask, args=(tenants, i % len(tenants), per_thread,
                                                    start, out, lock))
                for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        results.put(out)
        barrier.wait(300)


def _fetches(ctl, corp_ids) -> dict[str, int]:
    counts = dict.fromkeys(corp_ids, 0)
    for row in ctl.counters()["calls_by"]:
        if row["endpoint"] == "get_jsapi_ticket" and row["corp_id"] in counts:
            counts[row["corp_id"]] += row["count"]
    return counts


def _verified(ctl, outs) -> tuple[int, int]:
    import requests

    ok = total = 0
    for out in outs:
        for corp_id, sample in out["samples"].items():
            answer = requests.post(f"{ctl.base_url}/_emulator/corps/{corp_id}/jsapi/verify",
                                   json=sample, timeout=10).json()
            total += 1
            ok += answer.get("ok") is True
    return ok, total


def _run(ctl, env, corp_ids, args, legacy: bool) -> None:
    from core import clock

    ctl.set_config(jsapi_ticket_legacy=legacy)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(args.processes + 1), ctx.Queue()
    procs = [ctx.Process(target=worker_main, args=(env, args.windows, args.threads,
                                                   args.per_thread, barrier, results))
             for _ in range(args.processes)]
    for proc in procs:
        proc.start()
    ctl.reset_counters()
    before = dict.fromkeys(corp_ids, 0)
    label = "legacy " if legacy else "current"
    for window in range(args.windows):
        barrier.wait(300)  # every child is ready: the window starts
        started = time.perf_counter()
        barrier.wait(300)
        wall = time.perf_counter() - started
        outs = [results.get(timeout=300) for _ in procs]
        counts = _fetches(ctl, corp_ids)
        delta = sorted({counts[c] - before[c] for c in corp_ids})
        before = counts
        ok, total = _verified(ctl, outs)
        signed = sum(out["ok"] for out in outs)
        failures = sum(len(out["failures"]) for out in outs)
        print(f"  {label} window {window + 1}: get_jsapi_ticket per tenant {delta} "
              f"(total {sum(counts.values())}); {signed} configs signed, {failures} failed, "
              f"{signed / wall:,.0f}/s; sampled configs the container accepts: {ok}/{total}")
        # Both clocks past the ticket's (and the corp token's) 7200 s life.
        ctl.advance(7201)
        clock.advance(7201)
    for proc in procs:
        proc.join(timeout=60)


def _world(tenants: int):
    from dingtalk.emulator import EmulatorConfig, EmulatorControl, EmulatorServer

    server = EmulatorServer(EmulatorConfig(seed=7))
    base_url = server.start()
    ctl = EmulatorControl(base_url)
    ctl.set_config(rate_limits_enabled=False)
    remote = ctl.create_suite(push_style="sync_http")
    corps = []
    for _ in range(tenants):
        corp = ctl.create_corp(users=1)
        auth = ctl.authorize(remote["suite_key"], corp["corp_id"])
        corps.append({"corp_id": corp["corp_id"], "agent_id": auth["agent_id"]})
    return server, ctl, remote, corps


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=25, help="threads per process")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--windows", type=int, default=3, help="ticket expiry windows")
    parser.add_argument("--per-thread", type=int, default=2,
                        help="configs per tenant per thread per window")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from _callbacks_stack import OwnRedis

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    db_name = f"dingsuite_bench_jsapi_{secrets.token_hex(4)}"
    (ROOT / "var").mkdir(exist_ok=True)
    clock_file = os.path.join(tempfile.gettempdir(), f"dingsuite-bench-jsapi-clock-{db_name}")
    # This process moves the clock the children read (core.clock reads the file every call).
    os.environ["DINGSUITE_CLOCK_FILE"] = clock_file
    own_redis = OwnRedis(ROOT / "var" / f"bench-jsapi-redis-{db_name}.log")
    db_url = _create_db(base, db_name)
    server, ctl, remote, corps = _world(args.tenants)
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": db_url,
           "REDIS_URL": own_redis.url, "DINGSUITE_CLOCK_FILE": clock_file,
           "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS", TEST_KEYS),
           "DINGTALK_BASE_URL": ctl.base_url, "LOG_LEVEL": "WARNING"}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT,
                       env={**os.environ, **env}, check=True)
        seed = multiprocessing.get_context("spawn").Process(target=seed_main,
                                                            args=(env, remote, corps))
        seed.start()
        seed.join()
        per_window = args.processes * args.threads * args.per_thread * args.tenants
        print(f"{args.processes} processes x {args.threads} threads, {args.tenants} tenants, "
              f"{args.windows} expiry windows, {per_window} dd.config requests per window")
        corp_ids = [c["corp_id"] for c in corps]
        for legacy in (False, True):
            _run(ctl, env, corp_ids, args, legacy)
    finally:
        server.stop()
        own_redis.stop()
        _drop_db(base, db_name)
        if os.path.exists(clock_file):
            os.remove(clock_file)


if __name__ == "__main__":
    main()
