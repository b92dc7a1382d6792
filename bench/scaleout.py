"""Benchmark: scale-out. The same workload on one web process and one worker, then on two web
processes and four workers (one per queue role), on one PostgreSQL and one Redis; prints both
side by side and whether their results are the same.

The workload, run the same way on each layout, over real HTTP everywhere:
1. Two suites at the emulator, each pushing to its own web process (with two web processes;
   both to the one otherwise). Each suite's corps authorize it: the emulator pushes every
   org_suite_auth to dingsuite's callback endpoint, a worker applies it (tenants).
2. For every tenant one work notification to all its users, created through the REST API
   (POST /api/v1/tenants/<corp>/notifications/ with the suite's API key), alternating web
   processes; the workers plan, send, poll to outcomes.
Results compared: tenants authorized, callback events done, notifications completed, recipients
by outcome, and the emulator's view (each user given each message once: no duplicates). Times:
authorizations (first push to the last tenant authorized) and delivery (first create to the
last outcome), with the machine's load.

Everything is the bench's own: a throwaway database on DATABASE_URL's server (dropped at the
end), a private redis-server (broker, limiter, token store; flushed between layouts), one
emulator subprocess (rate limits and quotas off: the bench measures dingsuite, not DingTalk's
pacing), gunicorn and Celery on config.settings.production. The bench process runs Django on
the same database and Redis to register suites, make API keys and read results.

    .venv/bin/python bench/scaleout.py                     # 2 suites x 10 corps x 50 users
    .venv/bin/python bench/scaleout.py --corps 4 --users 20
    make bench-scaleout
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import _callbacks_stack as stack
import _delivery_stack as ds
import requests
from _callbacks_stack import OwnRedis, drop_database
from _recovery_stack import spawn, stop_group


@dataclass
class Layout:
    name: str
    web: int  # web processes (gunicorn masters, one gthread worker each)
    workers: list[tuple[str, str]]  # (label, -Q queues) per Celery worker process


LAYOUTS = (
    Layout("one web + one worker", 1, [("all", "callbacks,sends,polls,sync,default")]),
    Layout("two web + four workers", 2, [("callbacks", "callbacks"), ("sends", "sends"),
                                         ("polls", "polls"), ("default", "sync,default")]),
)


@dataclass
class Result:
    layout: str
    tenants: int = 0
    events_done: int = 0
    events_other: Counter = field(default_factory=Counter)
    notifications: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    delivered: int = 0
    delivered_distinct: int = 0
    authorize_s: float | None = None
    deliver_s: float | None = None
    load: str = ""

    def comparable(self) -> tuple:
        return (self.tenants, self.events_done, tuple(sorted(self.events_other.items())),
                tuple(sorted(self.notifications.items())), tuple(sorted(self.outcomes.items())),
                self.delivered, self.delivered_distinct)


class Stack:
    """The web processes, the workers and beat of one layout."""

    def __init__(self, layout: Layout, env: dict[str, str], workdir: Path) -> None:
        self.procs: list = []
        self.ports = []
        tag = layout.name.split()[0]
        try:
            for i in range(layout.web):
                port = stack.free_port()
                web_env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
                self.procs.append(stack.start_gunicorn(web_env, port,
                                                       workdir / f"web-{tag}-{i}.log"))
                self.ports.append(port)
            for label, queues in layout.workers:
                log = workdir / f"worker-{tag}-{label}.log"
                self.procs.append(spawn(
                    [stack.PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", queues,
                     "-n", f"scaleout-{tag}-{label}@%h", "--pool=threads", "--concurrency=4",
                     "--loglevel=INFO", "--without-gossip", "--without-mingle"], env, log))
                self._wait_ready(log)
            self.procs.append(spawn(
                [stack.PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                 "--schedule", str(workdir / f"beat-{tag}")], env, workdir / f"beat-{tag}.log"))
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + 90
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.procs[-1].poll() is not None:
                raise SystemExit(f"a worker did not start; see {log}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if getattr(proc, "args", None) and "gunicorn" in " ".join(map(str, proc.args)):
                stack.stop_process(proc)
            else:
                stop_group(proc, signal.SIGTERM, grace=20)


def wait(predicate, timeout: float, st: Stack, what: str) -> float | None:
    t0 = time.monotonic()
    while not predicate():
        if not st.alive():
            raise SystemExit(f"a process of the layout exited while waiting for {what}")
        if time.monotonic() - t0 > timeout:
            print(f"  {what}: not within {timeout:.0f} s", flush=True)
            return None
        time.sleep(0.25)
    return time.monotonic() - t0


def run_layout(layout: Layout, args, env: dict[str, str], emu: ds.Emulator,
               workdir: Path) -> Result:
    from api.services.keys import api_key_create
    from messaging.models import Notification, Recipient
    from tenants.models import CallbackEvent, Tenant
    from tenants.services.suites import suite_register

    result = Result(layout.name)
    print(f"\n== {layout.name}: {layout.web} web process(es), {len(layout.workers)} worker "
          f"process(es) ({'; '.join(q for _, q in layout.workers)}), one beat", flush=True)
    st = Stack(layout, env, workdir)
    try:
        suites, keys, corps_of = [], {}, {}
        for i in range(2):
            port = st.ports[i % len(st.ports)]
            key = f"suite{secrets.token_hex(8)}"
            remote = emu.control.create_suite(
                suite_key=key, push_style="sync_http",
                callback_url=f"http://127.0.0.1:{port}/callbacks/{key}/")
            suite = suite_register(
                suite_key=key, suite_secret=remote["suite_secret"], callback_token=remote["token"],
                encoding_aes_key=remote["aes_key"], suite_id=str(remote["suite_id"]),
                app_id=str(remote["app_id"]), name=f"scaleout {i}", push_style="sync_http")
            emu.control.push_ticket(key)
            suites.append(suite)
            keys[suite.pk] = api_key_create(name="scaleout", suite=suite).plaintext
            corps_of[suite.pk] = [ds.corp_with_active_users(emu.control, args.users)
                                  for _ in range(args.corps)]
        for suite in suites:
            for corp, _ in corps_of[suite.pk]:
                emu.control.authorize(suite.suite_key, corp["corp_id"])
        want = 2 * args.corps
        mine = Tenant.objects.filter(suite__in=suites, status=Tenant.Status.AUTHORIZED)
        result.authorize_s = wait(lambda: mine.count() >= want, args.timeout, st,
                                  "every tenant authorized")
        print(f"  {mine.count()} of {want} tenants authorized in "
              f"{result.authorize_s or float('nan'):.1f} s", flush=True)
        ports = itertools.cycle(st.ports)
        session = requests.Session()
        ids, content = [], f"scaleout {secrets.token_hex(4)}"
        for suite in suites:
            for corp, users in corps_of[suite.pk]:
                response = session.post(
                    f"http://127.0.0.1:{next(ports)}/api/v1/tenants/{corp['corp_id']}/"
                    "notifications/", json={"userid_list": users, "msg": ds.text(content)},
                    headers={"Authorization": f"Bearer {keys[suite.pk]}"}, timeout=30)
                if response.status_code != 201:
                    raise SystemExit(f"create answered {response.status_code}: "
                                     f"{response.text[:300]}")
                ids.append(response.json()["id"])
        result.deliver_s = wait(lambda: ds.snapshot(ids).final, args.timeout, st,
                                "every notification final")
        result.load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        result.tenants = mine.count()
        events = CallbackEvent.objects.filter(suite__in=suites).exclude(kind="suite_ticket")
        result.events_done = events.filter(status=CallbackEvent.Status.DONE).count()
        result.events_other = Counter(events.exclude(status=CallbackEvent.Status.DONE)
                                      .values_list("status", flat=True))
        result.notifications = Counter(Notification.objects.filter(pk__in=ids)
                                       .values_list("status", flat=True))
        result.outcomes = Counter(Recipient.objects.filter(notification_id__in=ids)
                                  .values_list("outcome", flat=True))
        view = ds.emulator_view(emu.url, ds.db_task_ids(ids), {s.suite_key for s in suites})
        result.delivered, result.delivered_distinct = (view.delivered_total(),
                                                       view.delivered_distinct())
        print(f"  delivered in {result.deliver_s or float('nan'):.1f} s: "
              f"{dict(result.notifications)}; outcomes {dict(result.outcomes)}; emulator "
              f"delivered {result.delivered} ({result.delivered_distinct} distinct); "
              f"{result.load}", flush=True)
        ds.close_run(ids)
    finally:
        st.stop()
    return result


def report(results: list[Result], args) -> None:
    n = 2 * args.corps * args.users
    print(f"\n{'':32s}" + "".join(f"{r.layout:>26s}" for r in results))
    rows = [
        ("tenants authorized", lambda r: f"{r.tenants}"),
        ("callback events done", lambda r: f"{r.events_done}"),
        ("callback events not done", lambda r: f"{dict(r.events_other) or 0}"),
        ("notifications", lambda r: ", ".join(f"{k} {v}" for k, v in r.notifications.items())),
        ("recipients read+unread", lambda r: f"{r.outcomes['read'] + r.outcomes['unread']}"
                                              f" of {n}"),
        ("emulator delivered (distinct)", lambda r: f"{r.delivered} ({r.delivered_distinct})"),
        ("authorizations took", lambda r: f"{r.authorize_s:.1f} s" if r.authorize_s else "-"),
        ("delivery took", lambda r: f"{r.deliver_s:.1f} s" if r.deliver_s else "-"),
    ]
    for label, cell in rows:
        print(f"{label:32s}" + "".join(f"{cell(r):>26s}" for r in results))
    same = len({r.comparable() for r in results}) == 1
    no_twice = all(r.delivered == r.delivered_distinct for r in results)
    print(f"\nsame results on both layouts: {'yes' if same else 'NO'}; "
          f"nobody given a message twice: {'yes' if no_twice else 'NO'}")
    if all(r.deliver_s for r in results):
        a, b = results[0].deliver_s, results[1].deliver_s
        print(f"delivery time, two web + four workers / one + one: {b / a:.2f} "
              "(one 2-core machine: more processes share the same cores; the point is that the "
              "results are the same)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corps", type=int, default=10, help="corps per suite (two suites)")
    parser.add_argument("--users", type=int, default=50, help="users per corp")
    parser.add_argument("--timeout", type=float, default=300, help="per phase, seconds")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    workdir = Path(tempfile.mkdtemp(prefix="dingsuite-scaleout-"))
    own_redis = OwnRedis(workdir / "redis.log")
    db_url = None
    results: list[Result] = []
    try:
        db_url = stack.create_database(base_db, prefix="dingsuite_scaleout")
        env = ds.django_env(db_url, own_redis.url)
        stack.manage(env, "migrate", "--noinput")
        emu = ds.Emulator(workdir, "scaleout", quotas={
            name: ds.UNLIMITED for name in ("per_minute_app_corp", "per_minute_suite",
                                            "per_minute_corp", "daily_cap_isv")},
            rate_limits=False)
        try:
            env = ds.worker_env(env, emu.url, paced=False)
            ds.django_setup(env)
            print(f"{os.cpu_count()} CPUs; {2 * args.corps} corps x {args.users} users; logs "
                  f"in {workdir}", flush=True)
            for layout in LAYOUTS:
                results.append(run_layout(layout, args, env, emu, workdir))
                own_redis.client.flushdb()  # the bench's own redis-server
        finally:
            emu.stop()
        report(results, args)
    finally:
        own_redis.stop()
        if db_url and not args.keep_db:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            drop_database(db_url, base_db)


if __name__ == "__main__":
    main()
