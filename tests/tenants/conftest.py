"""Integration fixtures for tenants: a real Celery worker, emulator-backed suites, helpers.

The worker is a subprocess (`celery -A config worker`) on the test database, with a Redis
broker on its own db number and a queue unique to this session (purged at start), so two
test sessions on one machine never steal each other's tasks. Nothing here is autouse: only
the tests that ask for the worker pay for it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.tenants.factories import TenantFactory, random_text

ROOT = Path(__file__).resolve().parents[2]
BROKER_DB = 14


def wait_for(predicate: Callable[[], object], *, timeout: float = 20.0, what: str = "it"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)  # polling an async outcome with a deadline, not synchronisation
        delay = min(delay * 2, 0.1)


def redis_url(db: int | None = None) -> str:
    url = settings.REDIS_URL or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if db is None:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth = f"{auth}:{db['PASSWORD']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses that must share this session's database, Redis, emulator."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url(),
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    return env


def _point_celery_at(broker: str, prefix: str) -> dict:
    """Make this process publish to the worker's broker and queues; returns the old values."""
    from config.celery import app
    from config.celery_routes import task_routes

    old = {"broker_url": app.conf.broker_url, "prefix": settings.CELERY_QUEUE_PREFIX}
    changes = {"broker_url": broker, "task_default_queue": f"{prefix}default",
               "task_routes": task_routes(prefix)}
    # Celery 5.6 reads Django's namespaced CELERY_* keys before the plain ones: set both.
    app.conf.update({**changes, **{f"CELERY_{key.upper()}": value
                                   for key, value in changes.items()}})
    app.amqp.flush_routes()
    for cached in ("router", "queues"):
        app.amqp.__dict__.pop(cached, None)
    # Publishing connections are pooled lazily, in kombu's process-wide groups keyed by broker
    # URL: close them all and empty the groups. Closing only the app's pool left the closed
    # pool (and the producer pool on it) registered, so pointing back at that broker later
    # published into it: "Acquire on closed pool".
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    return old


# The session's one worker. Another package's conftest that imports the fixtures makes a
# second fixture definition to pytest; it must reuse this worker, not start and re-point a
# second one (re-pointing the Celery app twice closes pools its publishers still hold).
_session_worker: list[SessionWorker] = []


@dataclass
class SessionWorker:
    proc: subprocess.Popen
    name: str  # the worker's node name, for remote control
    broker: str
    queues: list[str]
    log_path: Path  # everything the worker printed (tests read it)


@pytest.fixture(scope="session")
def celery_session_worker(django_db_setup, django_db_blocker, emulator_server,
                          tmp_path_factory):
    """A real Celery worker (threads pool, concurrency 2) consuming every role's queue under a
    prefix of its own, for the whole session. Tests ask for `celery_worker`, which also leaves
    the worker idle when the test ends."""
    if _session_worker:
        yield _session_worker[0]
        return
    import redis

    from config.celery_routes import queue_names

    broker = redis_url(BROKER_DB)
    prefix = f"tenants-test-{uuid.uuid4().hex[:12]}-"
    queues = queue_names(prefix)
    redis.Redis.from_url(broker).delete(*queues)
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = child_env(CELERY_BROKER_URL=broker, DINGTALK_BASE_URL=emulator_server.base_url,
                    CELERY_QUEUE_PREFIX=prefix)
    name = f"{prefix}worker@{socket.gethostname()}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads",
             "--concurrency=2", "-Q", ",".join(queues), "-n", name, "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    old = _point_celery_at(broker, prefix)
    try:
        wait_for(lambda: proc.poll() is not None or "ready." in log_path.read_text(),
                 timeout=60, what="the Celery worker to start")
        assert proc.poll() is None, log_path.read_text()[-4000:]
        worker = SessionWorker(proc=proc, name=name, broker=broker, queues=queues,
                               log_path=log_path)
        _session_worker.append(worker)
        yield worker
    finally:
        _session_worker.clear()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _point_celery_at(old["broker_url"], old["prefix"])
        redis.Redis.from_url(broker).delete(*queues)


@pytest.fixture
def celery_worker(celery_session_worker, transactional_db):
    """The session's worker. It is left idle when the test ends, before the database flush
    (tests/conftest.py's _session_worker_idle_before_flush, for every transactional test)."""
    yield celery_session_worker.proc


def session_worker_quiesce() -> None:
    """Leave the session's worker idle, if it runs: what was queued is dropped, what it holds
    for later (countdowns) is revoked, and what it is running is awaited."""
    if _session_worker:
        _worker_quiesce(_session_worker[0])


def _worker_quiesce(worker: SessionWorker) -> None:
    import redis

    from config.celery import app

    broker = redis.Redis.from_url(worker.broker)
    inspect = app.control.inspect(destination=[worker.name], timeout=5.0)

    def idle() -> bool:
        broker.delete(*worker.queues)  # again each time: a finishing task may queue another
        held = [task["request"]["id"] for task in (inspect.scheduled() or {}).get(
            worker.name, [])]
        held += [task["id"] for task in (inspect.reserved() or {}).get(worker.name, [])]
        if held:
            app.control.revoke(held, destination=[worker.name])
        active = (inspect.active() or {}).get(worker.name)
        return active == [] and not held

    wait_for(idle, timeout=60, what="the Celery worker to finish this test's tasks")


@pytest.fixture
def dingtalk_at_emulator(settings, emulator):
    """This process's DingTalk base URL is the emulator's (the worker got it at start)."""
    settings.DINGTALK_BASE_URL = emulator.base_url
    emulator.set_config(rate_limits_enabled=False)
    return emulator


@pytest.fixture
def no_app_receivers(monkeypatch):
    """tenants on its own: no app above it acts on market or contact events (commerce and
    directory register receivers; their own tests cover what they do with them)."""
    from tenants import event_receivers

    monkeypatch.setattr(event_receivers, "_RECEIVERS", {})


@pytest.fixture
def make_suite(dingtalk_at_emulator):
    """Create a suite at the emulator and register the same one in dingsuite.

    `make_suite(push_style="sync_http", callback_url=None, with_ticket=True)` -> (Suite, dict).
    With a ticket, the emulator's current ticket is recorded directly (no push needed).
    """
    from tenants.services.suites import suite_register
    from tenants.services.tickets import suite_ticket_record

    emulator = dingtalk_at_emulator

    def make(push_style: str = "sync_http", callback_url: str | None = None,
             with_ticket: bool = True):
        suite_key = f"suite{random_text(16).lower()}"
        fields = {"suite_key": suite_key, "push_style": push_style}
        if callback_url:
            fields["callback_url"] = callback_url.format(suite_key=suite_key)
        remote = emulator.create_suite(**fields)
        suite = suite_register(
            suite_key=remote["suite_key"], suite_secret=remote["suite_secret"],
            callback_token=remote["token"], encoding_aes_key=remote["aes_key"],
            suite_id=str(remote["suite_id"]), app_id=str(remote["app_id"]), name=remote["name"],
            push_style=push_style,
        )
        if with_ticket:
            suite_ticket_record(suite=suite, ticket=remote["ticket"],
                                pushed_at_ms=int(remote["ticket_ms"]))
        return suite, remote

    return make


@pytest.fixture
def make_app(dingtalk_at_emulator):
    """Create a corp and an internal app at the emulator and register the app in dingsuite.

    `make_app(corp=None, users=5, corpsecret=False)` -> (Tenant, corp dict, app dict): the app
    registered with a callback token and AES key of its own; `corpsecret=True` registers the
    corp's legacy corpsecret instead of the appkey.
    """
    from tenants.services.apps import app_register

    emulator = dingtalk_at_emulator

    def make(corp: dict | None = None, users: int = 5, corpsecret: bool = False):
        corp = corp or emulator.create_corp(users=users, corp_id=unique_corp_id())
        remote = emulator.create_app(corp["corp_id"])
        credentials = ({"corpsecret": corp["corpsecret"]} if corpsecret else
                       {"appkey": remote["appkey"], "appsecret": remote["appsecret"]})
        tenant = app_register(corp_id=corp["corp_id"], agent_id=int(remote["agent_id"]),
                              app_name=remote["name"], callback_token=random_text(24),
                              encoding_aes_key=random_text(43), **credentials)
        return tenant, corp, remote

    return make


def doomed_worker(queue: str, log_path, base_url: str, broker_db: int = 14):
    """A one-thread Celery worker of its own (consuming `queue` only, on Redis db
    `broker_db`), for a test to SIGKILL in the middle of a task."""
    env = child_env(CELERY_BROKER_URL=redis_url(broker_db), DINGTALK_BASE_URL=base_url,
                    CELERY_QUEUE_PREFIX=f"{queue}-")
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=threads",
             "--concurrency=1", "-Q", queue, "-n", f"{queue}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def unique_corp_id() -> str:
    """A corp id no other test has used: the emulator's reset gives every test's first corp the
    same id, and a few things outside the emulator are keyed by corp id (the limiter windows
    of the session's worker)."""
    return f"ding{uuid.uuid4().hex}"


def authorized_tenant(emulator, make_suite, push_style: str = "sync_http"):
    """(Tenant, corp dict): a corp created and authorized at the emulator, its tenant here."""
    suite, remote = make_suite(push_style=push_style)
    corp = emulator.create_corp(users=5, corp_id=unique_corp_id())
    auth = emulator.authorize(suite.suite_key, corp["corp_id"])
    tenant = TenantFactory(
        suite=suite, corp_id=corp["corp_id"], agent_id=auth["agent_id"],
        app_id=auth["app_id"],
        permanent_code=auth["permanent_code"] if push_style == "http" else "",
    )
    return tenant, corp


def corp_fetches(emulator, tenant) -> int:
    """How many times the emulator issued this tenant a corp token."""
    fetches = emulator.counters()["token_fetches"].get("get_corp_token", {})
    return fetches.get(f"{tenant.suite.suite_key}:{tenant.corp_id}", 0)
