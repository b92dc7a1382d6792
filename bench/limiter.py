"""Limiter throughput: acquires per second, Redis vs database backend, 1 and 8 threads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dingsuite REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/limiter.py [--seconds 3] [--backend redis|database|both]
    .venv/bin/python bench/limiter.py --backend database      # no DATABASE_URL: SQLite

Each acquire is a whole work-notification send: the (app, corp), suite, (app, API) and egress
rules (notice_send_rules) with amount 1 and limits raised so nothing is refused; every thread
uses its own tenant's keys (the shared suite and egress keys are contended, as in production).
The database backend runs on a throwaway database (created, migrated, dropped) on
DATABASE_URL's server, or in a throwaway SQLite file when DATABASE_URL is unset (the `make run`
demo's setup); Redis keys live under a private prefix and are deleted afterwards. Each run is
bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def _rules(Rule, tenant: int):
    big = 10**9
    return [Rule(f"notice:app:suite:corp:c{tenant}", big, 61), Rule("notice:suite:suite", big, 61),
            Rule(f"api:suite:asyncsend_v2:{tenant}", big, 1, counts_calls=True),
            Rule("egress:default", big, 20, counts_calls=True)]


def run(backend, Rule, threads: int, seconds: float, close=None) -> float:
    counts = [0] * threads
    deadline = time.monotonic() + seconds
    start = threading.Barrier(threads)

    def worker(index):
        rules = _rules(Rule, index)
        start.wait()
        while time.monotonic() < deadline:
            assert backend.acquire(rules, 1).allowed
            counts[index] += 1
        if close:
            close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    began = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per run (2 runs a backend)")
    parser.add_argument("--backend", choices=("redis", "database", "both"), default="both")
    args = parser.parse_args()
    import django
    from django.conf import settings

    django.setup()
    import redis
    from django.db import connection, connections
    from django.test.utils import setup_databases, teardown_databases

    from messaging.limiter import Rule
    from messaging.limiter.database import DatabaseLimiter
    from messaging.limiter.redis_backend import RedisLimiter

    names = ("redis", "database") if args.backend == "both" else (args.backend,)
    redis_url = settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    prefix = f"bench-limiter-{uuid.uuid4().hex[:8]}:"
    name = f"dingsuite_bench_{uuid.uuid4().hex[:8]}"
    if connection.vendor == "sqlite":
        name = os.path.join(tempfile.gettempdir(), f"{name}.sqlite3")
    connection.settings_dict["TEST"]["NAME"] = name
    old = setup_databases(verbosity=0, interactive=False) if "database" in names else None
    results = {}
    try:
        backends = {"redis": (lambda: RedisLimiter(url=redis_url, prefix=prefix, timeout_s=5),
                              None),
                    "database": (DatabaseLimiter, lambda: connection.close())}
        for backend_name in names:
            make, close = backends[backend_name]
            for threads in (1, 8):
                results[backend_name, threads] = run(make(), Rule, threads, args.seconds, close)
    finally:
        if "redis" in names:
            client = redis.Redis.from_url(redis_url)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
        connections.close_all()
        if old is not None:
            teardown_databases(old, verbosity=0)
    print(f"limiter acquires/s (4 rules per acquire, {args.seconds:g} s per run, "
          f"database={connection.vendor})")
    print(f"{'backend':<10}{'1 thread':>12}{'8 threads':>12}{'8 / 1':>8}")
    for backend_name in names:
        one, eight = results[backend_name, 1], results[backend_name, 8]
        print(f"{backend_name:<10}{one:>12,.0f}{eight:>12,.0f}{eight / one:>8.2f}")
    if len(names) == 2:
        print(f"redis / database: {results['redis', 1] / results['database', 1]:.1f}x "
              f"(1 thread), {results['redis', 8] / results['database', 8]:.1f}x (8 threads)")


if __name__ == "__main__":
    main()
