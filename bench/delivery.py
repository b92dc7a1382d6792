"""Benchmark: work-notification delivery through dingsuite's real pipeline; prints figures.

Everything is real and the bench's own: a throwaway PostgreSQL database dingsuite_delivery_<random>
on DATABASE_URL's server (migrated, dropped at the end), a private redis-server on a free port
(broker, limiter, token store; the shared Redis is never touched), and per run a fresh DingTalk
emulator (python -m dingtalk.emulator over HTTP, its quotas given with --quota) and fresh Celery
processes on config.settings.production: one worker (prefork, -Q sends,polls,default) and beat
(the sweep every 30 s). The bench process runs Django on the same database and Redis: it builds
the world through dingsuite's services (suite_register + tenant_authorize for suite tenants,
app_register for internal apps), creates notifications with notification_create (named userids,
only active users, one text per run so no identical-content rule interferes) and reads the
outcome from the models; the emulator's view comes from its control API (each task's accepted
time and per-recipient result, its counters). Between runs the workers are stopped, the private
Redis flushed and the run's leftovers closed, so no run sees another's tasks.

(a) Paced: one suite, --tenants x --users recipients, the emulator's quotas on (rate limits on;
    its suite-wide per-minute total is the ceiling that binds; dingsuite's
    MESSAGING_LIMIT_SUITE_PER_MINUTE set to the same figure). Recipients the emulator accepted
    per minute from the end of the first minute (since the create) to the last full minute,
    divided by the ceiling (goal >= 0.95); recipients it forbade for a per-minute code
    (143103/143104/143203/143204; goal 0; dingsuite sends those again after the window) and how
    many ended undelivered. The default 20,000 at DingTalk's 5,000/min would give fewer than
    --minutes steady minutes, so the suite quota is lowered to fit (printed with the reason).
    Then the same with pacing off: every MESSAGING_LIMIT_* ceiling far above the quotas.
(b) Fairness: one tenant sends to --big-users users, pacing binds; then a --small-users
    notification for another tenant of the same suite: seconds from its create returning to its
    status `sent`, beside the big tenant's batches sent meanwhile and the batch interval
    (batch size / the suite's per-minute rate). The big one is cancelled afterwards.
(c) Raw: emulator quotas and rate limits off, dingsuite's ceilings raised, --raw-tenants
    internal apps sharing --raw-users recipients: recipients per second from the create to
    every batch holding a DingTalk task id (sent) and to every outcome recorded, and the
    workers' CPU (user+sys from /proc, the worker and its pool processes) per 1,000
    recipients, once per --workers pool size (goal >= 2,000 recipients/s to sent).

Other settings stay as configured (printed at the start); MESSAGING_* variables in the
environment reach the workers, e.g. MESSAGING_SEND_WINDOW_PER_TENANT=8 to try another send
window per tenant.

A full `--scenario all` takes about 20 minutes (a: two runs of ~6-8 min in real time: the
quotas are per real minute). Smaller, for a smoke run:

    .venv/bin/python bench/delivery.py
    .venv/bin/python bench/delivery.py --scenario a --tenants 2 --users 200 --minutes 1
    .venv/bin/python bench/delivery.py --scenario c --raw-users 2000 --workers 1,4
    make bench-delivery BENCH_ARGS="--scenario b --big-users 5000"
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
import time
from dataclasses import dataclass, field
from pathlib import Path

import _callbacks_stack as stack
import _delivery_stack as ds
from _callbacks_stack import OwnRedis, drop_database

DEFAULT_SUITE_QUOTA = 5000  # DingTalk's one published per-minute figure (PROTOCOL 3.1)
PROGRESS_EVERY_S = 30.0
SHOWN = ("MESSAGING_BATCH_SIZE", "MESSAGING_SEND_WINDOW_PER_TENANT", "MESSAGING_FAIRNESS_DELAY_S",
         "MESSAGING_LIMIT_APP_CORP_PER_MINUTE", "MESSAGING_LIMIT_SUITE_PER_MINUTE",
         "MESSAGING_LIMIT_CORP_PER_MINUTE", "MESSAGING_LIMIT_MINUTE_MARGIN_S",
         "MESSAGING_LIMIT_APP_API_PER_SECOND", "MESSAGING_LIMIT_EGRESS_CALLS",
         "MESSAGING_POLL_FIRST_S", "MESSAGING_SWEEP_PENDING_AFTER_S")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "not reached"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    env: dict[str, str]
    redis: OwnRedis
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def row(self, scenario: str, figure: str, value: str, goal: str = "") -> None:
        self.rows.append((scenario, figure, value, goal))

    def goal(self, scenario: str, figure: str, value: str, goal: str, ok: bool) -> None:
        self.row(scenario, figure, value, f"{goal}: {verdict(ok)}")
        if not ok:
            self.missed.append(f"{scenario}: {figure} {value} ({goal})")


@contextlib.contextmanager
def run_stack(b: Bench, label: str, *, quotas: dict, rate_limits: bool):
    """A fresh emulator for one run; on the way out its workers (registered by the caller on
    the yielded ExitStack) stop first, then the private Redis is flushed, the run's
    notifications closed, the emulator stopped."""
    with contextlib.ExitStack() as run:
        emu = ds.Emulator(b.workdir, label, quotas=quotas, rate_limits=rate_limits)
        run.callback(emu.stop)
        ids: list[int] = []
        run.callback(lambda: ds.close_run(ids))
        run.callback(b.redis.client.flushdb)  # the bench's own redis-server, never the shared one
        yield emu, run, ids


def follow(ids: list[int], t0: float, timeout: float, workers: ds.Workers,
           emu: ds.Emulator) -> tuple[ds.Snapshot, float | None]:
    """Until every notification is final (or the deadline); a progress line every 30 s."""
    next_line = t0 + PROGRESS_EVERY_S
    while True:
        snap = ds.snapshot(ids)
        now = time.monotonic()
        if snap.final:
            return snap, now - t0
        if not workers.alive():
            raise SystemExit(f"the worker exited; see {workers.log}")
        if now - t0 > timeout:
            print(f"  deadline of {timeout:.0f} s passed", flush=True)
            return snap, None
        if now >= next_line:
            got = emu.control.counters()["recipients"]
            print(f"  +{now - t0:4.0f} s  {snap.line()} | emulator delivered "
                  f"{got.get('delivered', 0)}, forbidden "
                  f"{sum(v for k, v in got.items() if k.startswith('forbidden'))}; {load()}",
                  flush=True)
            next_line += PROGRESS_EVERY_S
        time.sleep(1.0)


# -- (a) paced -----------------------------------------------------------------------------------

def suite_quota(args) -> tuple[int, str]:
    n = args.tenants * args.users
    if args.suite_quota:
        return args.suite_quota, "given with --suite-quota"
    q = DEFAULT_SUITE_QUOTA
    if n / q >= args.minutes + 2:
        return q, "DingTalk's 5,000/min (the emulator's default)"
    q = max(100, int(n / (args.minutes + 2)) // 100 * 100)
    return q, (f"{n:,} recipients at the default 5,000/min take {n / DEFAULT_SUITE_QUOTA:.1f} "
               f"min: fewer than {args.minutes} full minutes after the first; {q:,}/min "
               f"(a multiple of the 100-recipient batch) takes {n / q:.1f} min")


def scenario_a(b: Bench, q: int, paced: bool) -> None:
    args = b.args
    n = args.tenants * args.users
    label = "a-paced" if paced else "a-unpaced"
    name = "a paced" if paced else "a pacing off"
    print(f"\n({label}) one suite, {args.tenants} tenants x {args.users:,} users = {n:,} "
          f"recipients; emulator per_minute_suite {q:,} (other quotas and rate limits at their "
          f"defaults); dingsuite's ceilings "
          + (f"MESSAGING_LIMIT_SUITE_PER_MINUTE={q:,}, the rest default" if paced else
             f"all MESSAGING_LIMIT_* = {ds.UNLIMITED:,} (pacing off)"), flush=True)
    from messaging.services.notifications import notification_create

    with run_stack(b, label, quotas={"per_minute_suite": q}, rate_limits=True) as (emu, run, ids):
        corps = [ds.corp_with_active_users(emu.control, args.users) for _ in range(args.tenants)]
        suite, tenants = ds.suite_with_tenants(emu.control, [c for c, _ in corps])
        workers = ds.Workers(ds.worker_env(b.env, emu.url, paced=paced, suite_per_minute=q),
                             b.workdir, label, args.concurrency)
        run.callback(workers.stop)
        content = f"delivery bench {label} {secrets.token_hex(4)}"
        t0_ms, t0 = emu.control.now_ms(), time.monotonic()
        for tenant, (_, users) in zip(tenants, corps, strict=True):
            ids.append(notification_create(tenant=tenant, userids=users, msg=ds.text(content)).pk)
        print(f"  {len(ids)} notifications created in {time.monotonic() - t0:.2f} s; worker "
              f"-c {args.concurrency}; {load()}", flush=True)
        snap, took = follow(ids, t0, 60 * (2 * n / q + 6), workers, emu)
        counters = emu.control.counters()
        view = ds.emulator_view(emu.url, ds.db_task_ids(ids), {suite.suite_key}, t0_ms)
        report_a(b, name, paced, q, n, t0_ms, snap, took, counters, view)


def report_a(b: Bench, name: str, paced: bool, q: int, n: int, t0_ms: int, snap: ds.Snapshot,
             took: float | None, counters: dict, view: ds.EmulatorView) -> None:
    per_min, full = view.per_minute(t0_ms)
    steady = per_min[1:full]
    print(f"  accepted by the emulator per minute since the create: {per_min}")
    forbidden = {k.split(":", 1)[1]: v for k, v in counters["recipients"].items()
                 if k.startswith("forbidden:")}
    lost = sum(v for code, v in forbidden.items() if code in ds.PER_MINUTE_CODES)
    delivered = snap.outcomes.get("read", 0) + snap.outcomes.get("unread", 0)
    undelivered = n - delivered
    total, distinct = view.delivered_total(), view.delivered_distinct()
    errcodes = counters.get("errcodes", {})
    if steady:
        rate = sum(steady) / len(steady)
        ratio = rate / q
        print(f"  steady window: minutes 2-{full} ({len(steady)} full minutes after the "
              f"first), mean {rate:,.0f}/min = {ratio:.3f} of the {q:,}/min ceiling")
        if len(steady) < b.args.minutes:
            print(f"  NOTE: only {len(steady)} steady minutes (wanted {b.args.minutes})")
    else:
        rate = ratio = None
        print("  steady window: none (everything was accepted within the first two minutes)")
    print(f"  forbidden by the emulator, by code: {forbidden or 'none'}; per-minute codes "
          f"{lost:,} recipients")
    print(f"  dingsuite at the end: {snap.line()}")
    print(f"  undelivered at the end: {undelivered:,} of {n:,}; emulator delivered {total:,} "
          f"({distinct:,} distinct users, {total - distinct} twice) in {len(view.tasks)} tasks;"
          f" errcodes answered {errcodes or 'none'}")
    print(f"  time from the create to every outcome recorded: {minutes(took)}; {load()}",
          flush=True)
    value = f"{rate:,.0f}/min = {ratio:.3f}" if ratio is not None else "n/a"
    if paced:
        b.goal(name, "delivered/min / ceiling (steady)", value, ">= 0.95",
               ratio is not None and ratio >= 0.95)
        b.goal(name, "recipients forbidden per-minute", f"{lost:,}", "0", lost == 0)
    else:
        b.row(name, "delivered/min / ceiling (steady)", value)
        b.row(name, "recipients forbidden per-minute", f"{lost:,}")
    b.row(name, "forbidden by code", ", ".join(f"{k} {v:,}" for k, v in sorted(forbidden.items()))
          or "none")
    b.goal(name, "undelivered at the end", f"{undelivered:,} of {n:,}", "0", undelivered == 0)
    b.row(name, "create -> every outcome", minutes(took))
    if errcodes:
        b.row(name, "errcodes from the emulator", ", ".join(
            f"{k} {v:,}" for k, v in sorted(errcodes.items())))


# -- (b) fairness --------------------------------------------------------------------------------

def scenario_b(b: Bench, q: int) -> None:
    args = b.args
    from core import clock
    from messaging.models import Notification, NotificationBatch
    from messaging.services.notifications import notification_cancel, notification_create

    interval = args.batch_size * 60 / q
    print(f"\n(b) fairness: one suite, tenant A sends to {args.big_users:,} users, then tenant B "
          f"to {args.small_users}; emulator per_minute_suite {q:,}, dingsuite's "
          f"MESSAGING_LIMIT_SUITE_PER_MINUTE {q:,} (batch interval {interval:.2f} s)", flush=True)
    with run_stack(b, "b", quotas={"per_minute_suite": q}, rate_limits=True) as (emu, run, ids):
        big_corp, big_users = ds.corp_with_active_users(emu.control, args.big_users)
        small_corp, small_users = ds.corp_with_active_users(emu.control, args.small_users)
        _, (big_t, small_t) = ds.suite_with_tenants(emu.control, [big_corp, small_corp])
        workers = ds.Workers(ds.worker_env(b.env, emu.url, paced=True, suite_per_minute=q),
                             b.workdir, "b", args.concurrency)
        run.callback(workers.stop)
        tag = secrets.token_hex(4)
        big = notification_create(tenant=big_t, userids=big_users, msg=ds.text(f"big {tag}"))
        ids.append(big.pk)
        big_batches = NotificationBatch.objects.filter(notification=big)
        # Pacing binds once a minute's quota is spent: the rest of A waits for the window.
        window = max(1, q // args.batch_size)
        binds = wait_until(lambda: big_batches.filter(task_id__isnull=False).count() >= window,
                           120, workers)
        if binds is None:
            print(f"  A did not get {window} batches sent within 120 s; going on")
        sent_before = big_batches.filter(task_id__isnull=False).count()
        wall0, c0 = clock.now(), time.monotonic()
        small = notification_create(tenant=small_t, userids=small_users,
                                    msg=ds.text(f"small {tag}"))
        c1 = time.monotonic()
        ids.append(small.pk)
        reached = ("sent", *ds.FINAL)
        took = wait_until(lambda: Notification.objects.filter(pk=small.pk,
                                                              status__in=reached).exists(),
                          args.fair_timeout, workers, poll=0.05)
        wall1 = clock.now()
        during = big_batches.filter(sent_at__gte=wall0, sent_at__lte=wall1).count()
        small_batches = list(NotificationBatch.objects.filter(notification=small)
                             .values_list("status", "attempts", "last_error"))
        big_left = big_batches.filter(task_id__isnull=True).count()
        print(f"  A spent the minute's quota ({window} batches) {binds:.1f} s after its create; "
              f"it had {sent_before} batches sent when B was created" if binds is not None else
              f"  A had {sent_before} batches sent when B was created")
        shown = (f"{took:.2f} s" if took is not None
                 else f"NOT within {args.fair_timeout:.0f} s")
        print(f"  B: create returned in {1000 * (c1 - c0):.0f} ms; create -> sent {shown}"
              f"; its batches (status, attempts, last error): {small_batches}")
        print(f"  A meanwhile: {during} batches sent ({during * args.batch_size:,} recipients); "
              f"batch interval {interval:.2f} s; A still had {big_left} batches unsent; {load()}",
              flush=True)
        b.row("b fairness", "small: create -> sent",
              f"{took:.2f} s" if took is not None else f"> {args.fair_timeout:.0f} s")
        b.row("b fairness", "big batches sent meanwhile",
              f"{during} (batch interval {interval:.2f} s)")
        if took is None:
            b.missed.append("b: the small notification was not sent within the deadline")
        with contextlib.suppress(Exception):
            notification_cancel(notification=Notification.objects.get(pk=big.pk))


def wait_until(predicate, timeout: float, workers: ds.Workers, poll: float = 0.2) -> float | None:
    """Seconds until predicate() is true, or None after timeout."""
    t0 = time.monotonic()
    while not predicate():
        if not workers.alive():
            raise SystemExit(f"the worker exited; see {workers.log}")
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(poll)
    return time.monotonic() - t0


# -- (c) raw -------------------------------------------------------------------------------------

RAW_QUOTAS = {name: ds.UNLIMITED for name in (
    "per_minute_app_corp", "per_minute_suite", "per_minute_corp", "daily_cap_internal",
    "daily_cap_isv")}


@dataclass
class Raw:
    concurrency: int
    n: int
    to_sent: float | None = None
    to_outcomes: float | None = None
    cpu_sent: float = 0.0
    cpu_out: float = 0.0
    emu_cpu: float = 0.0
    busy: float = 0.0


def scenario_c(b: Bench, concurrency: int) -> Raw:
    args = b.args
    from messaging.services.notifications import notification_create

    per = args.raw_users // args.raw_tenants
    n = per * args.raw_tenants
    label = f"c-{concurrency}"
    print(f"\n(c) raw, {concurrency} worker process{'es' if concurrency > 1 else ''}: "
          f"{args.raw_tenants} internal apps x {per:,} users = {n:,} recipients; emulator "
          f"quotas and rate limits off; dingsuite's ceilings {ds.UNLIMITED:,}", flush=True)
    with run_stack(b, label, quotas=RAW_QUOTAS, rate_limits=False) as (emu, run, ids):
        corps = [ds.corp_with_active_users(emu.control, per) for _ in range(args.raw_tenants)]
        tenants = [ds.internal_app(emu.control, corp) for corp, _ in corps]
        workers = ds.Workers(ds.worker_env(b.env, emu.url, paced=False), b.workdir, label,
                             concurrency)
        run.callback(workers.stop)
        # Warm-up: tokens fetched, pool processes connected; not timed.
        tag = secrets.token_hex(4)
        warm = [notification_create(tenant=t, userids=users[:10], msg=ds.text(f"warm {tag}")).pk
                for t, (_, users) in zip(tenants, corps, strict=True)]
        ids.extend(warm)
        if wait_until(lambda: ds.snapshot(warm).final, 120, workers) is None:
            raise SystemExit(f"(c) warm-up did not finish: {ds.snapshot(warm).line()}")
        time.sleep(1.0)
        got = Raw(concurrency, n)
        cpu0, emu0, ticks0 = workers.cpu_s(), emu.cpu_s(), stack.cpu_ticks()
        t0 = time.monotonic()
        timed = [notification_create(tenant=t, userids=users, msg=ds.text(f"raw {tag}")).pk
                for t, (_, users) in zip(tenants, corps, strict=True)]
        ids.extend(timed)
        while True:
            snap = ds.snapshot(timed)
            now = time.monotonic()
            if got.to_sent is None and snap.planned and snap.batches and not snap.unsent:
                got.to_sent, got.cpu_sent = now - t0, workers.cpu_s() - cpu0
            if snap.final:
                got.to_outcomes, got.cpu_out = now - t0, workers.cpu_s() - cpu0
                break
            if not workers.alive():
                raise SystemExit(f"the worker exited; see {workers.log}")
            if now - t0 > args.raw_timeout:
                print(f"  deadline of {args.raw_timeout:.0f} s passed: {snap.line()}")
                got.cpu_out = workers.cpu_s() - cpu0
                break
            time.sleep(0.2)
        busy, total = (a - z for a, z in zip(stack.cpu_ticks(), ticks0, strict=True))
        got.emu_cpu, got.busy = emu.cpu_s() - emu0, busy / max(total, 1)
        print(f"  dingsuite at the end: {snap.line()}")
        print(f"  create -> every batch sent (task id) {minutes(got.to_sent)}, -> every outcome "
              f"{minutes(got.to_outcomes)}; worker CPU {got.cpu_sent:.1f} s to sent, "
              f"{got.cpu_out:.1f} s to outcomes; emulator CPU {got.emu_cpu:.1f} s; machine "
              f"CPU busy {got.busy:.0%}; {load()}", flush=True)
    return got


def report_c(b: Bench, runs: list[Raw]) -> None:
    for r in runs:
        name = f"c raw, {r.concurrency} proc"
        to_sent = r.n / r.to_sent if r.to_sent else None
        to_out = r.n / r.to_outcomes if r.to_outcomes else None
        b.goal(name, "recipients/s to sent", f"{to_sent:,.0f}" if to_sent else "n/a",
               ">= 2,000", bool(to_sent and to_sent >= 2000))
        b.row(name, "recipients/s to every outcome", f"{to_out:,.0f}" if to_out else "n/a")
        b.row(name, "worker CPU ms / 1,000 recipients",
              f"{r.cpu_out * 1e6 / r.n:,.0f} (to sent {r.cpu_sent * 1e6 / r.n:,.0f}); "
              f"emulator {r.emu_cpu * 1e6 / r.n:,.0f}")
    by = {r.concurrency: r for r in runs}
    if len(by) >= 2:
        low, high = by[min(by)], by[max(by)]
        if low.to_sent and high.to_sent and low.to_outcomes and high.to_outcomes:
            b.row(f"c raw {high.concurrency}/{low.concurrency}", "ratio to sent / to outcomes",
                  f"{low.to_sent / high.to_sent:.2f} / {low.to_outcomes / high.to_outcomes:.2f}")


# -- main ----------------------------------------------------------------------------------------

def print_table(b: Bench) -> None:
    head = ("scenario", "figure", "value", "goal")
    widths = [max(len(h), *(len(r[i]) for r in b.rows)) for i, h in enumerate(head)]
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for r in b.rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"{os.cpu_count()} CPUs, {load()}; goals missed: {b.missed or 'none'}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=("a", "b", "c", "all"), default="all")
    p.add_argument("--tenants", type=int, default=10, help="(a) suite tenants")
    p.add_argument("--users", type=int, default=2000, help="(a) recipients per tenant")
    p.add_argument("--minutes", type=int, default=4,
                   help="(a) steady minutes wanted (the suite quota is chosen to give them)")
    p.add_argument("--suite-quota", type=int, default=0,
                   help="(a, b) the emulator's per_minute_suite; 0: chosen (see above)")
    p.add_argument("--pacing", choices=("on", "off", "both"), default="both",
                   help="(a) the paced run, the run with pacing off, or both")
    p.add_argument("--big-users", type=int, default=20000, help="(b) the big tenant's users")
    p.add_argument("--small-users", type=int, default=10, help="(b) the small notification")
    p.add_argument("--fair-timeout", type=float, default=600, help="(b) seconds to wait for it")
    p.add_argument("--raw-tenants", type=int, default=4, help="(c) internal apps")
    p.add_argument("--raw-users", type=int, default=20000, help="(c) recipients in all")
    p.add_argument("--raw-timeout", type=float, default=600, help="(c) seconds per run")
    p.add_argument("--workers", default="1,4", help="(c) worker pool sizes, e.g. 1,4")
    p.add_argument("--concurrency", type=int, default=4,
                   help="(a, b) worker pool size (deploy/'s bulk worker runs 4)")
    p.add_argument("--keep-logs", action="store_true")
    args = p.parse_args()
    try:
        args.worker_sizes = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        p.error("--workers: comma-separated integers, e.g. 1,4")
    return args


def main() -> None:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the ExitStack stops everything this bench started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    workdir = Path(tempfile.mkdtemp(prefix="dingsuite-delivery-"))
    started = time.monotonic()
    b = None
    try:
        with contextlib.ExitStack() as cleanup:
            own_redis = OwnRedis(workdir / "redis.log")
            cleanup.callback(own_redis.stop)
            db_url = stack.create_database(base_db, prefix="dingsuite_delivery")
            cleanup.callback(drop_database, db_url, base_db)
            env = ds.django_env(db_url, own_redis.url)
            stack.manage(env, "migrate", "--noinput")
            ds.django_setup(env)
            from django.db import connections

            cleanup.callback(connections.close_all)
            from django.conf import settings

            args.batch_size = settings.MESSAGING_BATCH_SIZE
            b = Bench(args, workdir, env, own_redis)
            print(f"delivery bench: {os.cpu_count()} CPUs, {load()}; own redis-server "
                  f":{own_redis.port}, database {db_url.rsplit('/', 1)[-1]}, logs in {workdir}",
                  flush=True)
            shown = {name: getattr(settings, name) for name in SHOWN if hasattr(settings, name)}
            print("dingsuite settings in force (MESSAGING_* from the environment reach the "
                  "workers; the runs override only the limits named with them): "
                  + ", ".join(f"{k.removeprefix('MESSAGING_')}={v}" for k, v in shown.items()),
                  flush=True)
            q, why = suite_quota(args)
            if args.scenario in ("a", "b", "all"):
                print(f"suite quota (per_minute_suite and MESSAGING_LIMIT_SUITE_PER_MINUTE): "
                      f"{q:,}/min: {why}", flush=True)
            if args.scenario in ("a", "all"):
                if args.pacing in ("on", "both"):
                    scenario_a(b, q, paced=True)
                if args.pacing in ("off", "both"):
                    scenario_a(b, q, paced=False)
            if args.scenario in ("b", "all"):
                scenario_b(b, q)
            if args.scenario in ("c", "all"):
                report_c(b, [scenario_c(b, size) for size in args.worker_sizes])
            print_table(b)
            print(f"{time.monotonic() - started:.0f} s in all")
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"stopped early ({type(exc).__name__}: {exc}); everything started was stopped, "
              "the database dropped", flush=True)
        raise
    finally:
        if args.keep_logs or b is None or b.missed:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
