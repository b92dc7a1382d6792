"""A full sync survives its worker: a worker SIGKILLed mid-walk leaves its checkpoint; once the
lease passes another run resumes from it (the sweep hands it on), walks no committed department
again, and the result is exact. Also: throttling is waited through, a failed sync is retried
from its checkpoint after a backoff, and the nightly sync comes at a stable jittered minute."""

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from core import clock
from directory.models import DirectorySync
from directory.services.sync import sync_request, sync_run
from directory.services.sync_sweep import nightly_next, syncs_sweep
from tests.conftest import advance_time
from tests.directory.mirror import actual_mirror, diff, expected_mirror
from tests.tenants.conftest import doomed_worker, redis_url, unique_corp_id, wait_for

Status = DirectorySync.Status
_BROKER_DB = 14
_GET = "topapi/v2/department/get"


def _calls(emulator, corp_id: str, endpoint: str) -> int:
    return sum(c["count"] for c in emulator.counters()["calls_by"]
               if c["corp_id"] == corp_id and c["endpoint"] == endpoint)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_sync_whose_worker_was_killed_resumes_from_its_checkpoint(
        celery_worker, emulator, make_app, tmp_path):
    corp = emulator.create_corp(users=400, depts=40, corp_id=unique_corp_id())
    tenant, _, _ = make_app(corp=corp)
    # Queued by hand (no task published): only the doomed worker gets this sync.
    DirectorySync.objects.create(tenant=tenant, status=Status.QUEUED, reason="test")
    # DingTalk answers slowly, so the kill lands mid-walk.
    emulator.add_fault("topapi/v2/user/list", latency_ms=150)
    queue = f"doomed-dir-{uuid.uuid4().hex[:8]}"
    worker = doomed_worker(queue, tmp_path / "doomed.log", emulator.base_url, _BROKER_DB)
    producer = Celery(broker=redis_url(_BROKER_DB), set_as_current=False)
    try:
        producer.send_task("directory.tenant_sync", args=[tenant.pk], queue=queue)
        wait_for(lambda: DirectorySync.objects.filter(
            tenant=tenant, checkpoint__walked__gte=8).exists(), timeout=90,
            what="the doomed worker to walk 8 departments")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.Redis.from_url(redis_url(_BROKER_DB)).delete(queue)
        producer.close()
    emulator.clear_faults()
    killed = DirectorySync.objects.get(tenant=tenant)
    walked_before = killed.checkpoint["walked"]
    assert killed.status == Status.RUNNING and 8 <= walked_before < 41
    assert sync_run(tenant_id=tenant.pk) == "not claimed"  # its lease still holds
    assert syncs_sweep()["resent"] == 0
    advance_time(emulator, settings.DIRECTORY_SYNC_LEASE + 1)
    # The sweep hands it to the session's worker, which resumes it.
    assert syncs_sweep()["resent"] == 1
    sync = wait_for(lambda: DirectorySync.objects.filter(
        tenant=tenant, status=Status.IDLE, last_success_at__isnull=False).first(), timeout=60,
        what="the resumed sync")
    assert (sync.status, sync.generation) == (Status.IDLE, 1)
    problems = diff(expected_mirror(emulator.get_corp(corp["corp_id"])), actual_mirror(tenant))
    assert not problems, problems
    # 41 departments (root included): each read once, but for the one in flight at the kill.
    assert 41 <= _calls(emulator, corp["corp_id"], _GET) <= 42
    assert _calls(emulator, corp["corp_id"], "auth/scopes") == 1
    assert sync.calls >= 1 + 3 * 41


@pytest.mark.integration
@pytest.mark.django_db
def test_throttled_calls_are_waited_through(emulator, make_app):
    tenant, corp, _ = make_app(users=30)
    # Every department read is refused twice with 90018 before it passes (PROTOCOL 10).
    emulator.add_fault(_GET, throttle="app", count=4)
    sync_request(tenant=tenant, reason="test")
    assert sync_run(tenant_id=tenant.pk) == "done"
    problems = diff(expected_mirror(emulator.get_corp(corp["corp_id"])), actual_mirror(tenant))
    assert not problems, problems
    assert emulator.counters()["errcodes"].get("90018") == 4


@pytest.mark.integration
@pytest.mark.django_db
def test_a_failed_sync_is_retried_from_its_checkpoint_after_a_backoff(emulator, make_app):
    tenant, corp, _ = make_app(users=60)
    sync_request(tenant=tenant, reason="test")
    # The user list breaks (no retry fixes 40035) after the walk began.
    emulator.add_fault("topapi/v2/user/list", errcode=40035, count=1)
    assert sync_run(tenant_id=tenant.pk) == "failed"
    failed = DirectorySync.objects.get(tenant=tenant)
    assert failed.status == Status.FAILED and failed.attempts == 1
    assert "40035" in failed.error and failed.checkpoint["queue"]
    assert failed.next_attempt_at - clock.now() > timedelta(seconds=50)
    assert sync_run(tenant_id=tenant.pk) == "not claimed"  # not due yet
    assert syncs_sweep()["resent"] == 0
    advance_time(emulator, settings.DIRECTORY_SYNC_RETRY_BASE + 1)
    assert sync_run(tenant_id=tenant.pk) == "done"
    done = DirectorySync.objects.get(tenant=tenant)
    assert (done.generation, done.attempts, done.error) == (1, 0, "")
    assert _calls(emulator, corp["corp_id"], "auth/scopes") == 1  # resumed, not restarted
    # A failure since the last success makes readers fall back to live calls.
    assert done.last_success_at > done.last_failure_at


@pytest.mark.django_db
def test_the_nightly_sync_is_off_the_hour_stable_and_spread(settings):
    settings.DIRECTORY_NIGHTLY_HOUR = 3
    now = clock.now().replace(hour=12, minute=0)
    times = {tenant_id: nightly_next(tenant_id=tenant_id, after=now) for tenant_id in range(50)}
    assert all(t.hour == 3 and 5 <= t.minute <= 54 and t > now for t in times.values())
    assert len({(t.minute, t.second) for t in times.values()}) > 30
    assert nightly_next(tenant_id=7, after=now) == times[7]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_sync_runs_of_one_tenant_at_once_one_walks(emulator, make_app):
    tenant, corp, _ = make_app(users=60)
    DirectorySync.objects.create(tenant=tenant, status=Status.QUEUED, reason="test")
    emulator.add_fault("auth/scopes", latency_ms=300)  # both start while the first is walking
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: _run_closing(tenant.pk), range(2)))
    assert outcomes == ["done", "not claimed"]
    assert _calls(emulator, corp["corp_id"], "auth/scopes") == 1


def _run_closing(tenant_id: int) -> str:
    try:
        return sync_run(tenant_id=tenant_id)
    finally:
        connection.close()
