"""/healthz (the process answers) and /readyz (what it needs answers: the database, the broker,
and Redis when one is configured). A load balancer takes an instance out on a 503 from /readyz,
whose body names each failed dependency; neither exposes a secret or an address."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger("config.health")

# Each check must answer well inside a load balancer's probe timeout.
CHECK_TIMEOUT_S = 1.0


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_S)


def _redis() -> None:
    from core.redis import redis_client

    redis_client(connect_timeout=CHECK_TIMEOUT_S, socket_timeout=CHECK_TIMEOUT_S).ping()


def readiness() -> dict[str, str]:
    """{dependency: "ok" or the failure's class name} for each dependency this process uses."""
    checks = {"database": _database, "broker": _broker}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    results = {}
    for name, check in checks.items():
        started = time.monotonic()
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure means not ready; its class names it
            results[name] = f"failed: {type(exc).__name__}"
            logger.warning("readiness: %s failed after %.0f ms (%s)", name,
                           (time.monotonic() - started) * 1000, type(exc).__name__)
    return results


def readyz(request):
    results = readiness()
    failed = sorted(name for name, result in results.items() if result != "ok")
    body = {"status": "ok" if not failed else "unavailable", "checks": results}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
