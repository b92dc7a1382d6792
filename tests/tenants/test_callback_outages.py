"""The callback endpoint when its neighbours fail: a hung Redis, PostgreSQL down.

Fault tests start their own Redis and their own web server; they never stop or pause the
machine's shared services.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid

import pytest
import redis
import requests

from tenants.models import CallbackEvent
from tenants.services import event_queue
from tests.tenants.conftest import ROOT, _point_celery_at, child_env, wait_for

from .factories import SuiteFactory
from .pushes import push, signed, sync_rows, user_row

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own, on a free port; stopped (and resumed) at the end."""
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    wait_for(lambda: _pings(client), what="the private redis-server")
    yield proc, url
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    proc.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.mark.django_db
def test_outage_hung_redis_never_holds_the_reply(client, private_redis, settings,
                                                 django_capture_on_commit_callbacks):
    """Defect 6: with Redis stopped (SIGSTOP), replies waited for the broker (88 s)."""
    proc, url = private_redis
    prefix = f"outage-{uuid.uuid4().hex[:8]}-"
    old = _point_celery_at(url, prefix)
    publisher = event_queue.publisher
    try:
        suite = SuiteFactory()
        os.kill(proc.pid, signal.SIGSTOP)
        published_before = publisher.published
        with django_capture_on_commit_callbacks(execute=True):
            response = push(client, suite, sync_rows(user_row(suite)))
        # The answer is out and the event stored, while the broker is still frozen: nothing
        # could have been published yet.
        assert response.status_code == 200
        assert CallbackEvent.objects.filter(suite=suite, status="pending").count() == 1
        assert publisher.published == published_before
        os.kill(proc.pid, signal.SIGCONT)
        wait_for(lambda: publisher.published > published_before, timeout=30,
                 what="the publisher to publish once Redis is back")
        queued = redis.Redis.from_url(url).llen(f"{prefix}callbacks")
        assert queued == 1
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        _point_celery_at(old["broker_url"], old["prefix"])


def test_outage_postgresql_down_is_a_503_with_one_log_line(tmp_path):
    """With its database unreachable, the endpoint answers 503 (DingTalk retries), one log
    line per push and no traceback; never a 500."""
    port = _free_port()
    dead_db = f"postgres://postgres@127.0.0.1:{_free_port()}/nowhere"
    log_path = tmp_path / "web.log"
    env = child_env(DATABASE_URL=dead_db, DJANGO_SETTINGS_MODULE="config.settings.test")
    with open(log_path, "w") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "2", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=30, what="gunicorn")
        suite = SuiteFactory.build(suite_key="suitedbdown")
        query, body = signed(suite, {"EventType": "check_url"})
        statuses = []
        for _ in range(3):
            answer = requests.post(f"{base}/callbacks/suitedbdown/?{query}", json=body,
                                   timeout=30)
            statuses.append((answer.status_code, answer.json()["code"]))
        assert statuses == [(503, "database_unavailable")] * 3
    finally:
        web.terminate()
        web.wait(timeout=20)
    lines = [line for line in log_path.read_text().splitlines() if "callback" in line]
    assert len(lines) == 3, lines
    assert "Traceback" not in log_path.read_text()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
