"""Benchmark: signed callback pushes against dingsuite under gunicorn on PostgreSQL; prints figures.

Creates a throwaway database (dingsuite_bench_<random>) on DATABASE_URL's server, starts its own
redis-server on a free port (the broker and REDIS_URL; the shared Redis is never touched),
migrates, registers a suite, serves config.wsgi with gunicorn (production settings,
deploy/gunicorn.conf.py) on a free port, and sends signed pushes: half HTTP-style suite_ticket
events, half SyncHTTP biz_type 13 rows, each a new event. No Celery worker runs; events are only
enqueued. Afterwards it checks that every push was stored and that every 200 decrypts to
"success", stops what it started and drops the database.

- closed (default): --concurrency senders each wait for the answer before the next push, --count
  pushes; latency is mostly queueing. Then runs bench/token_fetches.py (--skip-tokens to skip).
- open: pushes leave at t0 + i/--rate for --lead-in + --duration seconds whatever the answers
  do (bench/_callbacks_load.py); latency counts from the planned time; the lead-in is not timed.
- --hang-redis (open only): SIGSTOPs the bench's redis-server as the timed window starts and
  SIGCONTs it once every timed push was answered or timed out (--timeout).

Figures: sent, answered, errors, p50/p90/p99/max (all pushes; SyncHTTP rows apart, p99 as a
share of DingTalk's 1200 ms), achieved rate, client lag, rows stored. `make bench-callbacks` runs
the closed default; with arguments (DATABASE_URL as in the Makefile; REDIS_URL is not used):

    make bench-callbacks
    .venv/bin/python bench/callbacks.py --mode closed --concurrency 4 --skip-tokens
    .venv/bin/python bench/callbacks.py --mode closed --concurrency 8 --skip-tokens
    .venv/bin/python bench/callbacks.py --mode closed --concurrency 16 --skip-tokens
    .venv/bin/python bench/callbacks.py --mode closed --concurrency 32 --skip-tokens
    .venv/bin/python bench/callbacks.py --mode open --rate 300 --duration 20
    .venv/bin/python bench/callbacks.py --mode open --rate 100 --duration 15 --hang-redis
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import _callbacks_stack as stack
import psycopg
import requests
from _callbacks_load import encode, run_open
from _callbacks_stack import PYTHON, ROOT, SUITE_ID, SUITE_KEY, OwnRedis, alnum

sys.path.insert(0, str(ROOT))

from dingtalk.crypto import CallbackCrypto  # noqa: E402

DEADLINE_MS = {"http_ticket": 1500.0, "sync_row": 1200.0}
TABLE = ("mode", "load", "sent", "answered", "errors", "p50", "p90", "p99", "max", "sync p99",
         "rate/s", "max lag", "stored")


def build_pushes(crypto: CallbackCrypto, count: int, start_ms: int) -> list[tuple]:
    """(kind, query, body) for `count` distinct pushes, half tickets, half biz_type 13 rows."""
    pushes = []
    for i in range(count):
        stamp = start_ms + i
        if i % 2 == 0:
            kind = "http_ticket"
            plain = {"SuiteKey": SUITE_KEY, "EventType": "suite_ticket", "TimeStamp": stamp,
                     "SuiteTicket": f"ticket{i:08d}{alnum(24)}"}
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
        nonce, ts = alnum(8), str(stamp)
        query = {"signature": crypto.signature(ts, nonce, encrypt), "timestamp": ts,
                 "nonce": nonce}
        pushes.append((kind, query, json.dumps({"encrypt": encrypt})))
    return pushes


def fire(url: str, pushes: list[tuple], concurrency: int) -> tuple[list, float]:
    """Closed loop: send every push from a thread pool; ([(kind, ms, status, body)], seconds)."""
    local = threading.local()

    def send(push):
        kind, query, body = push
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.post(url, params=query, data=body, timeout=10,
                                headers={"Content-Type": "application/json"})
        elapsed = (time.perf_counter() - started) * 1000
        return kind, elapsed, response.status_code, response.content

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(send, pushes))
    return results, time.perf_counter() - started


def replied_success(crypto: CallbackCrypto, status: int, body: bytes) -> bool:
    """A 200 whose encrypted body decrypts to "success"."""
    if status != 200:
        return False
    reply = json.loads(body)
    return crypto.verify_and_decrypt(signature=reply["msg_signature"], nonce=reply["nonce"],
                                     timestamp=reply["timeStamp"],
                                     encrypt=reply["encrypt"]) == "success"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(value: float, timeout_ms: float) -> str:
    return f">{timeout_ms:.0f}" if math.isinf(value) else f"{value:.1f}"


def summarize(rows: list[tuple], crypto, timeout_ms: float) -> dict:
    """rows: (kind, ms or None, status, body); an unanswered push counts as an infinite wait."""
    lat = [math.inf if m is None else m for _k, m, _s, _b in rows]
    sync = [math.inf if m is None else m for k, m, _s, _b in rows if k == "sync_row"]
    ok = sum(replied_success(crypto, s, b) for _k, _m, s, b in rows)
    out = {"sent": len(rows), "answered": ok, "errors": len(rows) - ok}
    for name, q in (("p50", .5), ("p90", .9), ("p99", .99), ("max", 1.0)):
        out[name] = ms(percentile(lat, q), timeout_ms)
    sync_p99 = percentile(sync, .99)
    out["sync p99"] = ms(sync_p99, timeout_ms)
    share = ("past" if math.isinf(sync_p99)
             else f"= {sync_p99 / DEADLINE_MS['sync_row']:.1%} of")
    print(f"  SyncHTTP rows n={len(sync)}  p99 {out['sync p99']} ms {share} DingTalk's "
          f"1200 ms deadline")
    return out


def count_events(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM tenants_callbackevent").fetchone()[0]


def await_stored(db_url: str, own_redis: OwnRedis, before: tuple[int, int], expected: int,
                 wait_s: float) -> tuple[int, int]:
    """(events stored, tasks enqueued) since `before`, once the count reaches `expected` and the
    queue stops growing -- replies held on a hung broker finish after it resumes -- or wait_s."""
    deadline, last = time.monotonic() + wait_s, None
    while True:
        now = (count_events(db_url) - before[0], own_redis.queued() - before[1])
        if (now[0] >= expected and now == last) or time.monotonic() > deadline:
            return now
        last = now
        time.sleep(0.5)


def run_closed(args, url, crypto, db_url, own_redis) -> dict:
    pushes = build_pushes(crypto, args.count, int(time.time() * 1000))
    before = (count_events(db_url), own_redis.queued())
    results, wall = fire(url, pushes, args.concurrency)
    stored, queued = await_stored(db_url, own_redis, before, len(pushes), 5)
    row = summarize(results, crypto, 10_000)
    row.update(mode="closed", load=f"{args.concurrency} senders",
               stored=f"{stored}/{len(pushes)}",
               **{"rate/s": f"{len(results) / wall:.0f}", "max lag": "-"})
    print(f"  {len(results)} pushes in {wall:.2f} s; enqueued tasks {queued}")
    return row


def run_open_mode(args, port, crypto, db_url, own_redis) -> dict:
    lead, timed = int(args.lead_in * args.rate), int(args.duration * args.rate)
    path = f"/callbacks/{SUITE_KEY}/"
    pushes = [(kind, encode(path, port, query, body)) for kind, query, body
              in build_pushes(crypto, lead + timed, int(time.time() * 1000))]
    before = (count_events(db_url), own_redis.queued())
    at = {lead: own_redis.hang} if args.hang_redis else {}
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    try:
        run = run_open("127.0.0.1", port, pushes, rate=args.rate, timeout=args.timeout,
                       max_conns=args.max_conns, at=at)
    finally:
        own_redis.resume()
    cpu1, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - wall0
    client_cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / wall
    if args.hang_redis:
        hung_s = time.monotonic() - wall0 - args.lead_in
        print(f"  redis-server SIGSTOPped for {hung_s:.1f} s from the first timed push")
    stored, queued = await_stored(db_url, own_redis, before, len(pushes), 30)
    window = run.results[lead:]
    print(f"  timed {len(window)} pushes planned over {args.duration:g} s after a "
          f"{args.lead_in:g} s lead-in; client CPU {client_cpu:.0%} of a core; "
          f"enqueued tasks {queued}")
    rate, max_lag = report_client(args, run, window)
    rows = [(r.kind, r.ms, r.status, r.body) for r in window]
    row = summarize(rows, crypto, args.timeout * 1000)
    row.update(mode="open+hang" if args.hang_redis else "open", load=f"{args.rate:g}/s",
               stored=f"{stored}/{len(pushes)}",
               **{"rate/s": f"{rate:.0f}", "max lag": f"{max_lag:.1f}"})
    return row


def report_client(args, run, window: list) -> tuple[float, float]:
    """Print whether the client kept to the schedule and what failed; (send rate, max lag)."""
    lags = [r.lag_ms for r in window if r.error != "connect"]
    sends = [r.planned + r.lag_ms / 1000 for r in window]
    rate = (len(window) - 1) / max(sends[-1] - sends[0], 1e-9)
    errors = {}
    for r in window:
        if r.error:
            errors[r.error] = errors.get(r.error, 0) + 1
    print(f"  sent at {rate:.1f}/s (planned {args.rate:g}/s); lag p99 "
          f"{percentile(lags, .99):.1f} ms, max {max(lags):.1f} ms -> the client "
          f"{'FELL BEHIND' if max(lags) > 10 else 'kept to'} the schedule (10 ms)")
    print(f"  errors by kind: {errors or 'none'}; peak connections {run.peak_conns}; "
          f"idle-close resends {run.retries}")
    step = int(5 * args.rate)
    print("  p99 per 5 s of the window: " + ", ".join(
        ms(percentile([math.inf if r.ms is None else r.ms for r in window[i:i + step]], .99),
           args.timeout * 1000) for i in range(0, len(window), step)))
    return rate, max(lags)


def print_table(row: dict) -> None:
    cells = [str(row[name]) for name in TABLE]
    widths = [max(len(a), len(b)) for a, b in zip(TABLE, cells, strict=True)]
    print("\n" + "  ".join(h.rjust(w) for h, w in zip(TABLE, widths, strict=True)))
    print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    print("(latencies in ms from the planned send time in open mode; 'stored' counts "
          "every push sent, lead-in included)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("closed", "open"), default="closed")
    parser.add_argument("--count", type=int, default=4000, help="closed: pushes to time")
    parser.add_argument("--concurrency", type=int, default=16, help="closed: sender threads")
    parser.add_argument("--rate", type=float, default=300, help="open: pushes per second")
    parser.add_argument("--duration", type=float, default=20, help="open: timed seconds")
    parser.add_argument("--lead-in", type=float, default=2, help="open: untimed seconds first")
    parser.add_argument("--timeout", type=float, default=5, help="open: give up on a push (s)")
    parser.add_argument("--max-conns", type=int, default=2000, help="open: connection cap")
    parser.add_argument("--hang-redis", action="store_true", help="open: SIGSTOP the broker")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (gthread x4)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--skip-tokens", action="store_true", help="closed: skip token bench")
    args = parser.parse_args()
    if args.hang_redis and args.mode != "open":
        parser.error("--hang-redis needs --mode open (a closed loop would just stall)")
    return args


def main() -> None:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so the finally below stops everything this bench started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dingsuite")
    (ROOT / "var").mkdir(exist_ok=True)  # the logs' home; a fresh clone has none
    own_redis = OwnRedis(ROOT / "var" / "bench-callbacks-redis.log")
    proc, db_url = None, None
    try:
        db_url = stack.create_database(base_db)
        port = stack.free_port()
        env = stack.server_env(db_url, own_redis.url, args.workers, port)
        stack.manage(env, "migrate", "--noinput")
        suite = stack.register_suite(env)
        proc = stack.start_gunicorn(env, port, ROOT / "var" / "bench-callbacks-gunicorn.log")
        crypto = CallbackCrypto(token=suite["token"], encoding_aes_key=suite["aes_key"],
                                key=SUITE_KEY)
        url = f"http://127.0.0.1:{port}/callbacks/{SUITE_KEY}/"
        fire(url, build_pushes(crypto, args.warmup, int(time.time() * 1000) - 10_000_000), 4)
        print(f"dingsuite under gunicorn: {args.workers} gthread workers x 4 threads, "
              f"{os.cpu_count()} CPUs; PostgreSQL; own redis-server broker (no Celery worker); "
              f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
        ticks = stack.cpu_ticks()
        if args.mode == "closed":
            row = run_closed(args, url, crypto, db_url, own_redis)
        else:
            row = run_open_mode(args, port, crypto, db_url, own_redis)
        busy, total = (a - b for a, b in zip(stack.cpu_ticks(), ticks, strict=True))
        print(f"  machine CPU busy during the run {busy / max(total, 1):.0%}; load average "
              f"after: {os.getloadavg()[0]:.1f} (the client and anything else share these CPUs)")
        print_table(row)
    except (KeyboardInterrupt, SystemExit):
        print("interrupted: stopping gunicorn and redis-server, dropping the database", flush=True)
        raise
    finally:
        own_redis.resume()
        stack.stop_process(proc)
        own_redis.stop()
        if db_url and not args.keep_db:
            stack.drop_database(db_url, base_db)
        elif db_url:
            print(f"kept database {db_url}")
    if args.mode == "closed" and not args.skip_tokens:
        run_token_bench()


def run_token_bench() -> None:
    script = ROOT / "bench" / "token_fetches.py"
    if not script.exists():
        print("\nbench/token_fetches.py not found: token fetch figures skipped")
        return
    print("\n== bench/token_fetches.py ==", flush=True)
    subprocess.run([PYTHON, str(script)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
