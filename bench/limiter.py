"""Limiter throughput: acquires per second, Redis vs database backend, 1 and 8 threads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dingsuite REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/limiter.py [--seconds 3]

Each acquire is a whole work-notification send: the (app, corp), suite, (app, API) and egress
rules (notice_send_rules) with amount 1 and limits raised so nothing is refused; every thread
uses its own tenant's keys (the shared suite and egress keys are contended, as in production).
The database backend runs on a throwaway database (created, migrated, dropped) on
DATABASE_URL's server; Redis keys live under a private prefix and are deleted afterwards. Each
run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
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
    parser.add_argument("--seconds", type=float, default=3.0, help="per run (4 runs)")
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

    redis_url = settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    connection.settings_dict["TEST"]["NAME"] = f"dingsuite_bench_{uuid.uuid4().hex[:8]}"
    old = setup_databases(verbosity=0, interactive=False)
    results = {}
    prefix = f"bench-limiter-{uuid.uuid4().hex[:8]}:"
    try:
        redis_backend = RedisLimiter(url=redis_url, prefix=prefix, timeout_s=5)
        db_backend = DatabaseLimiter()
        for name, backend, close in (("redis", redis_backend, None),
                                     ("database", db_backend, lambda: connection.close())):
            for threads in (1, 8):
                results[name, threads] = run(backend, Rule, threads, args.seconds, close)
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        connections.close_all()
        teardown_databases(old, verbosity=0)
    vendor = connection.vendor
    print(f"limiter acquires/s (4 rules per acquire, {args.seconds:g} s per run, "
          f"database={vendor})")
    print(f"{'backend':<10}{'1 thread':>12}{'8 threads':>12}{'8 / 1':>8}")
    for name in ("redis", "database"):
        one, eight = results[name, 1], results[name, 8]
        print(f"{name:<10}{one:>12,.0f}{eight:>12,.0f}{eight / one:>8.2f}")
    print(f"redis / database: {results['redis', 1] / results['database', 1]:.1f}x (1 thread), "
          f"{results['redis', 8] / results['database', 8]:.1f}x (8 threads)")


if __name__ == "__main__":
    main()
