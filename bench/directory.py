"""Benchmark: the directory mirror of a 5,000-user / 300-department tenant; prints figures.

Everything is the bench's own: a throwaway PostgreSQL database dingsuite_dirbench_<random> on
DATABASE_URL's server (migrated, dropped at the end), a private redis-server, a DingTalk
emulator with its rate limits ON (20 QPS per app and API, as DingTalk: a sync that goes faster
is answered 90018), dingsuite served by gunicorn (the callback URL of the suite) and one Celery
worker on the callbacks and default queues (pushed rows are applied there). The bench process
runs Django on the same database and Redis.

(1) Full sync. A suite whose callback URL is this gunicorn; a generated corp of --users users in
    --depts departments authorizes it (the pushed authorization makes the tenant and queues its
    sync; the worker does not take the sync queue, so the bench runs the sync itself, in
    process, through directory.services.sync.sync_run, as the sync worker would). Figures:
    wall time, DingTalk calls by endpoint (the emulator's counters for this corp), calls per
    user, throttled answers, and whether the mirror equals the emulator's state.
(2) Incremental. --changes user changes made one after another at the emulator
    (user_modify_org, a new title each): each is timed from the control call to the row being
    visible in the mirror (SyncHTTP push -> callback view -> inbox -> worker -> upsert),
    polled every 2 ms. Figures: p50, p95, max, and DingTalk calls made meanwhile (none are
    needed: the rows carry the whole object).

    .venv/bin/python bench/directory.py
    .venv/bin/python bench/directory.py --users 1000 --depts 60 --changes 20
    make bench-directory BENCH_ARGS="--changes 100"
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _callbacks_stack as stack
import _delivery_stack as ds
from _callbacks_stack import PYTHON, OwnRedis, drop_database
from _recovery_stack import spawn, stop_group


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=5000, help="users of the corp (5000)")
    parser.add_argument("--depts", type=int, default=300, help="departments below the root")
    parser.add_argument("--changes", type=int, default=50,
                        help="incremental changes timed one by one (default 50)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if min(args.users, args.depts, args.changes) <= 0:
        parser.error("every figure must be positive")
    return args


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def corp_calls(emu, corp_id: str) -> Counter:
    """DingTalk calls the emulator counted for this corp, by endpoint."""
    return Counter({row["endpoint"]: row["count"] for row in emu.counters()["calls_by"]
                    if row["corp_id"] == corp_id})


def start_worker(env: dict[str, str], workdir: Path):
    """One Celery worker taking pushed events (callbacks) and lazy fetches (default)."""
    log = workdir / "worker.log"
    worker = spawn([PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "callbacks,default",
                    "-n", "dirbench@%h", "--pool=threads", "--concurrency=4",
                    "--loglevel=INFO", "--without-gossip", "--without-mingle"], env, log)
    deadline = time.monotonic() + 90
    while " ready." not in log.read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_group(worker)
            raise SystemExit(f"the worker did not start; see {log}")
        time.sleep(0.2)
    return worker


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.002)


def build_tenant(emu, base: str, args):
    """A suite pushing to `base`, the generated corp authorizing it, the tenant the push made."""
    import secrets

    from tenants.models import Tenant
    from tenants.services.suites import suite_register
    from tenants.services.tickets import suite_ticket_record

    key = f"suite{secrets.token_hex(8)}"
    remote = emu.create_suite(suite_key=key, push_style="sync_http",
                              callback_url=f"{base}/callbacks/{key}/")
    suite = suite_register(
        suite_key=key, suite_secret=remote["suite_secret"], callback_token=remote["token"],
        encoding_aes_key=remote["aes_key"], suite_id=str(remote["suite_id"]),
        app_id=str(remote["app_id"]), name="directory bench", push_style="sync_http")
    suite_ticket_record(suite=suite, ticket=remote["ticket"],
                        pushed_at_ms=int(remote["ticket_ms"]))
    corp = emu.create_corp(users=args.users, depts=args.depts)
    emu.authorize(key, corp["corp_id"])
    tenant = wait_until(lambda: Tenant.objects.filter(suite=suite, corp_id=corp["corp_id"])
                        .first(), 60, "the pushed authorization's tenant")
    return tenant, corp


def full_sync(emu, tenant, corp) -> None:
    from directory.models import DirectorySync
    from directory.services.sync import sync_request, sync_run

    emu.reset_counters()
    sync_request(tenant=tenant, reason="bench")
    began = time.monotonic()
    outcome = sync_run(tenant_id=tenant.pk)
    elapsed = time.monotonic() - began
    sync = DirectorySync.objects.get(tenant=tenant)
    calls = corp_calls(emu, corp["corp_id"])
    total = sum(n for endpoint, n in calls.items() if "token" not in endpoint)
    errcodes = emu.counters()["errcodes"]
    print(f"\n(1) full sync ({outcome}): {elapsed:.1f} s wall time; {sync.department_count} "
          f"departments, {sync.user_count} users mirrored; drift {sync.drift}", flush=True)
    print(f"    DingTalk calls: {total:,} ({total / max(1, sync.user_count):.3f} per user, "
          f"{total / elapsed:.1f}/s; the sync counted {sync.calls:,})")
    for endpoint, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"      {endpoint:<40} {n:>6,}")
    throttled = {code: n for code, n in errcodes.items() if code in ("90018", "90002", "88")}
    print(f"    throttled answers from the emulator: {throttled or 'none'}")
    print(f"    mirror equals the emulator's state: {mirror_matches(emu, tenant, corp)}")


def mirror_matches(emu, tenant, corp) -> str:
    """Departments, users and memberships compared with the emulator's corp."""
    from directory.models import Department, Membership, User

    world = emu.get_corp(corp["corp_id"])
    want_depts = {d["id"]: (d["name"], d["parent_id"], d["order"], d["manager_userids"])
                  for d in world["departments"]}
    got_depts = {d.dept_id: (d.name, d.parent_id, d.order, list(d.manager_userids))
                 for d in Department.objects.filter(tenant=tenant, deleted_at__isnull=True)}
    want_users = {u["userid"]: (u["name"], u["position"], u["active"]) for u in world["users"]}
    got_users = {u.userid: (u.name, u.title, u.active)
                 for u in User.objects.filter(tenant=tenant, deleted_at__isnull=True)}
    want_members = {(u["userid"], d) for u in world["users"] for d in u["depts"]}
    got_members = set(Membership.objects.filter(tenant=tenant).values_list("userid", "dept_id"))
    bad = [name for name, want, got in (("departments", want_depts, got_depts),
                                        ("users", want_users, got_users),
                                        ("memberships", want_members, got_members))
           if want != got]
    return "yes" if not bad else f"NO ({', '.join(bad)} differ)"


def incremental(emu, tenant, corp, changes: int) -> None:
    from directory.models import User

    userids = [u for u in corp["userids"][2:]][:changes]
    emu.reset_counters()
    latencies = []
    for i, userid in enumerate(userids):
        title = f"bench title {i}"
        began = time.monotonic()
        emu.contact_change(corp["corp_id"], "user_modify_org",
                           user={"userid": userid, "position": title})
        wait_until(lambda u=userid, t=title: User.objects.filter(
            tenant=tenant, userid=u, title=t).exists(), 30, f"change {i} in the mirror")
        latencies.append(time.monotonic() - began)
    calls = corp_calls(emu, corp["corp_id"])
    ms = [x * 1000 for x in latencies]
    print(f"\n(2) incremental: {len(ms)} user changes, each from the emulator's control call to "
          f"the row in the mirror: p50 {quantile(ms, 0.5):.0f} ms, p95 {quantile(ms, 0.95):.0f} "
          f"ms, max {max(ms):.0f} ms; DingTalk calls meanwhile: "
          f"{sum(calls.values()) or 'none'} {dict(calls) if calls else ''}", flush=True)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    workdir = Path(tempfile.mkdtemp(prefix="dingsuite-dirbench-"))
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as cleanup:
            own_redis = OwnRedis(workdir / "redis.log")
            cleanup.callback(own_redis.stop)
            db_url = stack.create_database(base_db, prefix="dingsuite_dirbench")
            cleanup.callback(drop_database, db_url, base_db)
            emulator = ds.Emulator(workdir, "dir", quotas={}, rate_limits=True)
            cleanup.callback(emulator.stop)
            port = stack.free_port()
            env = dict(ds.django_env(db_url, own_redis.url), DINGTALK_BASE_URL=emulator.url,
                       GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2",
                       LOG_LEVEL="WARNING")
            stack.manage(env, "migrate", "--noinput")
            ds.django_setup(env)
            from django.db import connections

            cleanup.callback(connections.close_all)
            gunicorn = stack.start_gunicorn(env, port, workdir / "gunicorn.log")
            cleanup.callback(stack.stop_process, gunicorn)
            worker = start_worker(dict(env, LOG_LEVEL="INFO"), workdir)
            cleanup.callback(stop_group, worker, signal.SIGTERM, 20)
            print(f"directory bench: {os.cpu_count()} CPUs; {args.users:,} users in "
                  f"{args.depts} departments; emulator {emulator.url} with rate limits on "
                  f"(20 QPS per app and API); database {db_url.rsplit('/', 1)[-1]}, own "
                  f"redis :{own_redis.port}, gunicorn :{port}, one worker (callbacks, "
                  f"default); logs in {workdir}", flush=True)
            tenant, corp = build_tenant(emulator.control, f"http://127.0.0.1:{port}", args)
            full_sync(emulator.control, tenant, corp)
            incremental(emulator.control, tenant, corp, args.changes)
            print(f"\n{time.monotonic() - started:.0f} s in all")
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"stopped ({type(exc).__name__}: {exc}); everything started was stopped, the "
              "database dropped", flush=True)
        raise
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
