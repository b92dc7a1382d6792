"""The mirror against hostile values and its own failures: whatever DingTalk's answers or a
signed push carry (NUL, lone surrogates, names longer than a column, Infinity, ids beyond a
bigint), a sync ends in a status that says what happens next, and a pushed row is applied
with its unstorable parts made safe or refused with a clear note, never a half-written row."""

import pytest

from directory.models import DirectorySync
from directory.services import sync as sync_service
from directory.services.sync import sync_request, sync_run

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Status = DirectorySync.Status


def test_an_unexpected_error_fails_the_sync_with_a_backoff(emulator, make_app, monkeypatch):
    tenant, corp, _ = make_app(users=10)
    sync_request(tenant=tenant, reason="test")

    def broken(**kwargs):
        raise RuntimeError("a bug in the walk's write")

    monkeypatch.setattr(sync_service.store, "users_upsert", broken)
    # Not raised out of the task (which would leave the sync "running" until its lease passed,
    # then crash again every lease for ever): recorded as a failure the sweep retries later.
    assert sync_run(tenant_id=tenant.pk) == "failed"
    sync = DirectorySync.objects.get(tenant=tenant)
    assert (sync.status, sync.attempts, sync.lease_owner) == (Status.FAILED, 1, "")
    assert sync.next_attempt_at is not None and "RuntimeError" in sync.error
    assert sync.checkpoint  # kept: the retry resumes it
    monkeypatch.undo()
    sync.next_attempt_at = sync.last_failure_at
    sync.save()
    assert sync_run(tenant_id=tenant.pk) == "done"
    assert DirectorySync.objects.get(tenant=tenant).status == Status.IDLE
