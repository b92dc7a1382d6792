"""Benchmark: recovery of callback events and lost authorizations, in real time (issue 8).

Starts the whole stack, each piece its own: the DingTalk emulator (python -m dingtalk.emulator,
no rate limits: the faults below are the test), a private redis-server (broker and REDIS_URL,
AOF on as deploy/ runs it; the shared Redis is never touched), a throwaway PostgreSQL database
dingsuite_recovery_<random> on DATABASE_URL's server (dropped at the end), gunicorn serving the
callback endpoint, Celery beat with the real schedule (the sweep every 30 s; leases 20 s) and a
Celery worker consuming every queue, all on config.settings.production. It registers an
HTTP-push suite (with its app_id, which reauth_corp needs) and a SyncHTTP suite in the emulator
and in dingsuite, the emulator pushing to gunicorn. Then, each scenario on fresh corps:

A. worker death: N corps authorize through the HTTP-push suite while service/get_auth_info
   answers after --latency-a seconds; once every event is inside that call the worker's whole
   process group is SIGKILLed (a container kill), the fault is lifted and a fresh worker starts
   at once (a restart policy). Figure: time from the SIGKILL until each corp's event is DONE
   and its tenant AUTHORIZED (median, max; goal <= 60 s). (The client's read timeout is 10 s:
   undisturbed, each event would time out once and finish on the client's retry; the kill
   comes within about a second of the claims.) Worst case by design: lease left (<= 20 s) +
   wait for the next sweep (< 30 s) + the re-run.
B. lost get_permanent_code answers: the emulator's faults act BEFORE the handler (latency, then
   drop, then the call), so `drop` loses a request, never an answer. A latency just above the
   client's 10 s read timeout (10.4 s) makes the client give up while the emulator then trades
   the code: the answer is lost. The retry (1-2 s later) hears 42008; the sweep must ask for a
   re-push (get_unactive_corp, reauth_corp). Figures: attempted, AUTHORIZED at the end, events
   per status, time to recovery (goal: 0 lost). The same corps also authorize the SyncHTTP
   suite, which cannot lose them this way.
C. Redis restart with tasks in flight: events held in a slow get_auth_info while the private
   redis-server restarts (SIGTERM, --outage seconds down, start again); more corps authorize
   in both suites during the outage. A worker that dies is restarted at once and counted.
   Figures: deaths, lost authorizations (goal 0), time to recovery.

Every wait has a deadline; a run takes about five minutes. Everything started is stopped (also
on Ctrl-C or an exception), the database dropped, the logs deleted unless a goal was missed or
--keep-logs is given (then their directory is printed).

    .venv/bin/python bench/recovery.py
    .venv/bin/python bench/recovery.py --corps 20 --only A --keep-logs
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import _callbacks_stack as stack
from _callbacks_stack import ROOT, drop_database
from _recovery_stack import Celery, Emulator, Inbox, PrivateRedis, create_database

sys.path.insert(0, str(ROOT))

from dingtalk.emulator import EmulatorControl  # noqa: E402

TERMINAL = {"done", "ignored", "dead"}
POLL_S = 0.2
GOAL_S = 60.0


@dataclass
class SuiteRef:
    key: str
    pk: int
    style: str


@dataclass
class World:
    emu: EmulatorControl
    inbox: Inbox
    celery: Celery
    redis: PrivateRedis
    http: SuiteRef
    sync: SuiteRef
    deaths: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, what)
    missed: list[str] = field(default_factory=list)

    def keep_worker_alive(self) -> None:
        """The restart policy: a worker that exited is replaced at once (its death noted)."""
        if self.celery.worker.poll() is None:
            return
        lines = self.celery.worker_log.read_text(errors="replace").splitlines()
        cause = next((ln for ln in reversed(lines) if "Unrecoverable error" in ln
                      or "Error" in ln), lines[-1] if lines else "(empty log)")
        self.deaths.append((time.monotonic(), f"{self.celery.worker_log.name} exited "
                            f"{self.celery.worker.returncode}: {cause.strip()[:300]}"))
        # As systemd (KillMode=mixed) or docker would: what is left of it goes, a new one comes.
        self.celery.kill_worker()
        self.celery.start_worker()


@dataclass
class Settled:
    done: bool
    elapsed: float
    recovered_at: dict[str, float]  # corp -> seconds since the scenario's reference time
    events: list[tuple]
    tenants: dict[str, tuple]
    seen: dict[str, set]  # status -> event ids ever seen in it
    first_at: dict[str, float]  # status -> seconds since t0 when an event was first seen in it


def settle(w: World, suite: SuiteRef, corps: list[str], after_id: int, t0: float,
           timeout: float, others: list[tuple[SuiteRef, list[str]]] = ()) -> Settled:
    """Poll until every corp is an AUTHORIZED tenant with no event left unfinished."""
    recovered: dict[str, float] = {}
    seen: dict[str, set] = {}
    first_at: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        w.keep_worker_alive()
        events = w.inbox.events(suite.pk, corps, after_id)
        tenants = w.inbox.tenants(suite.pk, corps)
        for ev in events:
            seen.setdefault(ev[3], set()).add(ev[0])
            first_at.setdefault(ev[3], time.monotonic() - t0)
        open_corps = {ev[2] for ev in events if ev[3] not in TERMINAL}
        for corp in corps:
            if corp not in recovered and corp not in open_corps \
                    and tenants.get(corp, ("",))[0] == "authorized":
                recovered[corp] = time.monotonic() - t0
        others_done = all(_all_authorized(w, ref, cs, after_id) for ref, cs in others)
        finished = len(recovered) == len(corps) and others_done
        if finished or time.monotonic() > deadline:
            return Settled(finished, time.monotonic() - t0, recovered, events, tenants, seen,
                           first_at)
        time.sleep(POLL_S)


def _all_authorized(w: World, ref: SuiteRef, corps: list[str], after_id: int) -> bool:
    tenants = w.inbox.tenants(ref.pk, corps)
    events = w.inbox.events(ref.pk, corps, after_id)
    return (all(tenants.get(c, ("",))[0] == "authorized" for c in corps)
            and all(ev[3] in TERMINAL for ev in events))


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL_S)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def fired(w: World, fault_id: int) -> int:
    return next((f["fired"] for f in w.emu.faults() if f["id"] == fault_id), 0)


def new_corps(w: World, n: int) -> list[str]:
    return [w.emu.create_corp(users=3)["corp_id"] for _ in range(n)]


def report(w: World, label: str, corps: list[str], got: Settled, *, goal_time: bool) -> None:
    lost = [c for c in corps if got.tenants.get(c, ("",))[0] != "authorized"]
    times = sorted(got.recovered_at.values())
    print(f"  authorizations attempted {len(corps)}, AUTHORIZED tenants {len(corps) - len(lost)}"
          f", lost {len(lost)} (goal 0)")
    if times:
        print(f"  time to recovery: median {statistics.median(times):.1f} s, max "
              f"{times[-1]:.1f} s over {len(times)} corps"
              + (f" (goal <= {GOAL_S:.0f} s)" if goal_time else ""))
    statuses = Counter((ev[1], ev[3]) for ev in got.events)
    print("  events at the end: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in
                                              sorted(statuses.items())))
    attempts = Counter(ev[4] for ev in got.events)
    print("  attempts per event: " + ", ".join(f"{a}: {n}" for a, n in sorted(attempts.items())))
    print("  statuses ever seen (events): " + ", ".join(
        f"{s} {len(ids)}" for s, ids in sorted(got.seen.items())))
    notes = Counter((ev[3], (ev[5] or "")[:160]) for ev in got.events if ev[5])
    for (status, note), n in notes.most_common(6):
        print(f"    {n} x {status}: {note}")
    if lost:
        print(f"  NOT AUTHORIZED: {[(c, got.tenants.get(c, ('no tenant',))[0]) for c in lost]}")
    stuck = [ev for ev in got.events if ev[3] not in TERMINAL]
    for ev in stuck[:10]:
        print(f"  STUCK event {ev[0]} {ev[1]} {ev[2]}: {ev[3]}, attempts {ev[4]}, "
              f"last_error {ev[5]!r}")
    if lost or stuck or not got.done:
        w.missed.append(f"{label}: {len(lost)} lost, {len(stuck)} unfinished")
    if goal_time and (not times or times[-1] > GOAL_S or len(times) < len(corps)):
        w.missed.append(f"{label}: recovery slower than {GOAL_S:.0f} s")


def scenario_a(w: World, n: int, latency_s: float) -> None:
    print(f"\nA. worker death: {n} corps, HTTP push, service/get_auth_info answers after "
          f"{latency_s:g} s; SIGKILL of the worker's process group mid-run", flush=True)
    corps, after = new_corps(w, n), w.inbox.max_event_id()
    fault = w.emu.add_fault("service/get_auth_info", latency_ms=int(latency_s * 1000), count=n)
    for corp in corps:
        w.emu.authorize(w.http.key, corp)
    wait_for(lambda: fired(w, fault["id"]) >= n, 60, "every event inside get_auth_info")
    events = w.inbox.events(w.http.pk, corps, after)
    processing = sum(ev[3] == "processing" for ev in events)
    lease_left = w.inbox.lease_left(w.http.pk, corps, after)
    t_kill = time.monotonic()
    w.celery.kill_worker()
    w.emu.clear_faults()
    w.celery.start_worker()
    print(f"  at the SIGKILL: {processing}/{len(events)} events PROCESSING; fresh worker "
          f"started at once", flush=True)
    got = settle(w, w.http, corps, after, t_kill, timeout=150)
    print(f"  all recovered: {'yes' if got.done else 'NO'} after {got.elapsed:.1f} s "
          f"(sweep every 30 s, lease 20 s)")
    print(f"  timeline from the SIGKILL: leases ran out at +{lease_left[0]:.1f}..+"
          f"{lease_left[1]:.1f} s; first event taken back (pending) at "
          f"+{got.first_at.get('pending', float('nan')):.1f} s; first done at "
          f"+{got.first_at.get('done', float('nan')):.1f} s")
    report(w, "A", corps, got, goal_time=True)


def scenario_b(w: World, n: int, latency_s: float) -> None:
    print(f"\nB. lost get_permanent_code answers: {n} corps, HTTP push; the emulator trades each "
          f"code {latency_s:g} s after the request, the client gives up at 10 s", flush=True)
    corps, after = new_corps(w, n), w.inbox.max_event_id()
    before = w.emu.counters()
    fault = w.emu.add_fault("service/get_permanent_code", latency_ms=int(latency_s * 1000),
                            count=n)
    t0 = time.monotonic()
    for corp in corps:
        w.emu.authorize(w.http.key, corp)
        w.emu.authorize(w.sync.key, corp)
    got = settle(w, w.http, corps, after, t0, timeout=150, others=[(w.sync, corps)])
    n_fired = fired(w, fault["id"])
    w.emu.clear_faults()
    after_counts = w.emu.counters()
    calls = {name: after_counts["calls"].get(name, 0) - before["calls"].get(name, 0)
             for name in ("service/get_permanent_code", "service/get_unactive_corp",
                          "service/reauth_corp")}
    spent = after_counts["errcodes"].get("42008", 0) - before["errcodes"].get("42008", 0)
    print(f"  fault fired {n_fired}/{n} times; emulator calls {calls}; 42008 answers "
          f"{spent}")
    print(f"  all recovered: {'yes' if got.done else 'NO'} after {got.elapsed:.1f} s "
          f"(from the first authorize); first awaiting_reauth seen at "
          f"+{got.first_at.get('awaiting_reauth', float('nan')):.1f} s")
    report(w, "B", corps, got, goal_time=False)
    sync_ok = sum(v[0] == "authorized" for v in w.inbox.tenants(w.sync.pk, corps).values())
    print(f"  SyncHTTP control: {sync_ok}/{n} AUTHORIZED")
    if sync_ok < n:
        w.missed.append(f"B: {n - sync_ok} SyncHTTP authorizations lost")


def scenario_c(w: World, n: int, extra: int, latency_s: float, outage_s: float) -> None:
    print(f"\nC. Redis restart: {n} corps in flight (get_auth_info answers after "
          f"{latency_s:g} s), redis-server down {outage_s:g} s, {extra} more corps per suite "
          f"authorize during the outage", flush=True)
    corps, after = new_corps(w, n), w.inbox.max_event_id()
    during_http, during_sync = new_corps(w, extra), new_corps(w, extra)
    deaths_before = len(w.deaths)
    fault = w.emu.add_fault("service/get_auth_info", latency_ms=int(latency_s * 1000), count=n)
    for corp in corps:
        w.emu.authorize(w.http.key, corp)
    wait_for(lambda: fired(w, fault["id"]) >= n, 60, "every event inside get_auth_info")
    t_stop = time.monotonic()
    w.redis.stop()
    for corp in during_http:
        w.emu.authorize(w.http.key, corp)
    for corp in during_sync:
        w.emu.authorize(w.sync.key, corp)
    time.sleep(max(0.0, outage_s - (time.monotonic() - t_stop)))  # the outage itself
    w.redis.start()
    print(f"  redis-server back after {time.monotonic() - t_stop:.1f} s", flush=True)
    got = settle(w, w.http, corps + during_http, after, t_stop, timeout=150,
                 others=[(w.sync, during_sync)])
    w.emu.clear_faults()
    print(f"  worker deaths: {len(w.deaths) - deaths_before} (each replaced at once)"
          + "".join(f"\n    exit seen at +{at - t_stop:.1f} s: {what}"
                    for at, what in w.deaths[deaths_before:]))
    print(f"  all recovered: {'yes' if got.done else 'NO'} after {got.elapsed:.1f} s "
          f"(from the Redis stop)")
    report(w, "C", corps + during_http, got, goal_time=False)
    sync_ok = sum(v[0] == "authorized" for v in w.inbox.tenants(w.sync.pk, during_sync).values())
    print(f"  SyncHTTP pushed during the outage: {sync_ok}/{extra} AUTHORIZED")
    if sync_ok < extra:
        w.missed.append(f"C: {extra - sync_ok} SyncHTTP authorizations lost")


def register_suite(env: dict, emu: EmulatorControl, inbox: Inbox, gport: int,
                   style: str) -> SuiteRef:
    """The same suite in the emulator (pushing to gunicorn) and in dingsuite, app_id set."""
    key = f"suiterecovery{style.replace('_', '')}{secrets.token_hex(3)}"
    made = emu.create_suite(suite_key=key, push_style=style,
                            callback_url=f"http://127.0.0.1:{gport}/callbacks/{key}/")
    stack.manage(dict(env, DINGTALK_SUITE_SECRET=made["suite_secret"],
                      DINGTALK_CALLBACK_TOKEN=made["token"],
                      DINGTALK_ENCODING_AES_KEY=made["aes_key"]),
                 "register_suite", "--suite-key", key, "--suite-id", str(made["suite_id"]),
                 "--app-id", str(made["app_id"]), "--push-style", style,
                 "--name", f"recovery {style}")
    pk = inbox.suite_pk(key)
    emu.push_ticket(key)  # the push at creation found no suite here; this one is stored
    wait_for(lambda: inbox.has_ticket(pk), 30, f"the {style} suite's ticket")
    return SuiteRef(key, pk, style)


def warm_up(w: World) -> None:
    """One corp through each suite: the pipeline works and the suite tokens are cached."""
    corp, after = new_corps(w, 1), w.inbox.max_event_id()
    for ref in (w.http, w.sync):
        w.emu.authorize(ref.key, corp[0])
    for ref in (w.http, w.sync):
        got = settle(w, ref, corp, after, time.monotonic(), timeout=60)
        if not got.done:
            raise SystemExit(f"warm-up: the {ref.style} suite did not authorize a corp: "
                             f"{got.events} {got.tenants}")


def build(args, workdir: Path, cleanup: contextlib.ExitStack, base_db: str) -> World:
    own_redis = PrivateRedis(workdir)
    cleanup.callback(own_redis.stop)
    emulator = Emulator(workdir)
    cleanup.callback(emulator.stop)
    db_url = create_database(base_db)
    cleanup.callback(drop_database, db_url, base_db)
    gport = stack.free_port()
    env = dict(stack.server_env(db_url, own_redis.url, 2, gport),
               DINGTALK_BASE_URL=emulator.url, PYTHONPATH=str(ROOT))
    stack.manage(env, "migrate", "--noinput")
    inbox = Inbox(db_url)
    cleanup.callback(inbox.close)
    gunicorn = stack.start_gunicorn(env, gport, workdir / "gunicorn.log")
    cleanup.callback(stack.stop_process, gunicorn)
    celery = Celery(env, workdir, args.concurrency)
    cleanup.callback(celery.stop)
    celery.start_worker()
    celery.wait_ready()
    emu = EmulatorControl(emulator.url)
    http = register_suite(env, emu, inbox, gport, "http")
    sync = register_suite(env, emu, inbox, gport, "sync_http")
    return World(emu, inbox, celery, own_redis, http, sync)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corps", type=int, default=20, help="corps per scenario (A, B)")
    parser.add_argument("--concurrency", type=int, default=20,
                        help="worker pool size (prefork); >= --corps keeps every event mid-run")
    parser.add_argument("--latency-a", type=float, default=20, help="A: get_auth_info delay")
    parser.add_argument("--latency-b", type=float, default=10.4,
                        help="B: get_permanent_code delay (just above the 10 s read timeout)")
    parser.add_argument("--outage", type=float, default=5, help="C: seconds Redis is down")
    parser.add_argument("--only", default="ABC", help="scenarios to run, e.g. A or BC")
    parser.add_argument("--keep-logs", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the ExitStack stops everything this bench started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    workdir = Path(tempfile.mkdtemp(prefix="dingsuite-recovery-"))
    started = time.monotonic()
    world = None
    try:
        with contextlib.ExitStack() as cleanup:
            world = build(args, workdir, cleanup, base_db)
            print(f"stack up in {time.monotonic() - started:.0f} s: emulator, redis-server "
                  f":{world.redis.port} (AOF), gunicorn, beat, 1 worker "
                  f"(-c {args.concurrency}, -Q callbacks,sends,polls,sync,default); "
                  f"{os.cpu_count()} CPUs", flush=True)
            warm_up(world)
            if "A" in args.only:
                scenario_a(world, args.corps, args.latency_a)
            if "B" in args.only:
                scenario_b(world, args.corps, args.latency_b)
            if "C" in args.only:
                scenario_c(world, max(args.corps // 2, 1), 5, 8, args.outage)
            print(f"\nworker deaths over the run: {len(world.deaths)}; goals missed: "
                  f"{world.missed or 'none'}; {time.monotonic() - started:.0f} s in all")
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"stopped early ({type(exc).__name__}: {exc}); everything started was stopped, "
              "the database dropped", flush=True)
        raise
    finally:
        if args.keep_logs or world is None or world.missed:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
