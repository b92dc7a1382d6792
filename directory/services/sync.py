"""A tenant's full sync: asked for (coalesced), claimed under a lease (one per tenant), walked
department by department with a checkpoint committed after each, and finished by deleting (soft)
what this generation did not see.

Each step is: read from DingTalk (sync_walk, no transaction), then one short transaction that
writes the rows, moves the checkpoint and renews the lease, only while this worker still holds
it. A worker that dies leaves the checkpoint; the sweep (sync_sweep.py) hands the sync to another
worker once the lease passes, which resumes from it: a department whose step committed is never
walked again in that generation.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import clock
from core.errors import ServiceError
from dingtalk.errors import DingTalkError
from directory.models import Department, DirectorySync, User
from directory.services import store
from directory.services.calls import PacedCaller
from directory.services.sync_walk import dept_read, scopes_read, users_read
from directory.signals import directory_changed
from tenants.errors import TenantInactive
from tenants.models import Tenant
from tenants.services.clients import client_for

logger = logging.getLogger(__name__)

Status = DirectorySync.Status
USERS_PER_STEP = 20


def _now_ms() -> int:
    return int(clock.time() * 1000)


def _enqueue(tenant_id: int) -> None:
    from directory.tasks import tenant_sync

    tenant_sync.delay_on_commit(tenant_id)


def sync_request(*, tenant: Tenant, reason: str) -> DirectorySync:
    """Ask for a full sync of the tenant: queued once however often asked (a sync already
    queued is not queued again; one running is run once more after it ends)."""
    with transaction.atomic():
        sync, created = DirectorySync.objects.select_for_update().get_or_create(
            tenant=tenant, defaults={"status": Status.QUEUED, "reason": reason})
        if created:
            from directory.services.sync_sweep import nightly_next

            sync.nightly_due_at = nightly_next(tenant_id=tenant.pk, after=clock.now())
        elif sync.status == Status.RUNNING:
            sync.rerun = True
        elif sync.status in (Status.IDLE, Status.FAILED):
            sync.status, sync.reason, sync.checkpoint = Status.QUEUED, reason, {}
            sync.attempts = 0
        else:
            return sync
        # The task is the fast path; the sweep re-sends a queued sync nobody took by then.
        sync.next_attempt_at = clock.now() + timedelta(seconds=settings.DIRECTORY_SYNC_LEASE)
        sync.save()
        if sync.status == Status.QUEUED:
            _enqueue(tenant.pk)
    return sync


def sync_stop(*, tenant: Tenant, reason: str) -> None:
    """Stop the tenant's syncs (relieved): a running walk stops at its next checkpoint; the
    mirror's rows stay (the data lifecycle decides their deletion)."""
    DirectorySync.objects.filter(tenant=tenant).update(
        status=Status.IDLE, rerun=False, lease_owner="", lease_expires_at=None,
        next_attempt_at=None, checkpoint={}, error=reason[:500])


def _claim(tenant_id: int) -> tuple[DirectorySync, str] | None:
    """Take the tenant's sync if it is queued, due again after a failure, or its holder's lease
    passed: one conditional UPDATE, so two workers never both run it."""
    now = clock.now()
    owner = uuid.uuid4().hex
    claimable = (Q(status=Status.QUEUED)
                 | Q(status=Status.FAILED, next_attempt_at__lte=now)
                 | Q(status=Status.RUNNING, lease_expires_at__lt=now))
    taken = DirectorySync.objects.filter(claimable, tenant_id=tenant_id).update(
        status=Status.RUNNING, lease_owner=owner, next_attempt_at=None,
        lease_expires_at=now + timedelta(seconds=settings.DIRECTORY_SYNC_LEASE))
    if not taken:
        return None
    return DirectorySync.objects.select_related("tenant", "tenant__suite").get(
        tenant_id=tenant_id), owner


def _step(sync: DirectorySync, owner: str, write=None, **changes) -> bool:
    """One checkpoint: `write()` and the sync row's `changes` in one transaction, only while
    `owner` still holds the lease (False: someone took it over or the sync was stopped)."""
    with transaction.atomic():
        held = DirectorySync.objects.select_for_update().filter(
            pk=sync.pk, status=Status.RUNNING, lease_owner=owner).first()
        if held is None:
            return False
        if write is not None:
            write()
        changes["lease_expires_at"] = clock.now() + timedelta(
            seconds=settings.DIRECTORY_SYNC_LEASE)
        for name, value in changes.items():
            setattr(sync, name, value)
        DirectorySync.objects.filter(pk=sync.pk).update(**changes)
    return True


def sync_run(*, tenant_id: int) -> str:
    """Run (or resume) the tenant's full sync if it can be claimed; returns what happened."""
    claimed = _claim(tenant_id)
    if claimed is None:
        return "not claimed"
    sync, owner = claimed
    caller = PacedCaller(sync.tenant)
    try:
        client = client_for(sync.tenant)
        if not sync.checkpoint:
            if not _begin(sync, owner, client, caller):
                return "lost lease"
        while sync.checkpoint.get("queue") or sync.checkpoint.get("users_left"):
            if not _advance(sync, owner, client, caller):
                return "lost lease"
        return _finish(sync, owner)
    except TenantInactive as error:
        sync_stop(tenant=sync.tenant, reason=str(error))
        return "tenant inactive"
    except (DingTalkError, ServiceError) as error:
        _fail(sync, owner, error)
        return "failed"
    except Exception as error:
        # A bug or a refused statement: raised out of the task it would leave the sync
        # "running" until its lease passed, then crash again every lease, never backing off.
        logger.exception("directory sync of tenant %s failed unexpectedly", tenant_id)
        _fail(sync, owner, error)
        return "failed"


def _begin(sync: DirectorySync, owner: str, client, caller: PacedCaller) -> bool:
    scope = scopes_read(client, caller)
    checkpoint = {"started_ms": _now_ms(), "queue": list(scope.dept_ids),
                  "users_left": list(scope.userids), "walked": 0, "calls": caller.calls,
                  "added": 0, "changed": 0}
    now = clock.now()
    return _step(sync, owner, generation=sync.generation + 1, started_at=now,
                 finished_at=None, error="", checkpoint=checkpoint,
                 scope_digest=scope.digest, reason=sync.reason)


def _advance(sync: DirectorySync, owner: str, client, caller: PacedCaller) -> bool:
    """Walk the next department (or the next few authorized users) and checkpoint it."""
    cp = dict(sync.checkpoint)
    gen, tenant = sync.generation, sync.tenant
    before = caller.calls
    # The state is stamped with the time its reads began: a change DingTalk made after the
    # reads, whose row was applied before this write, is newer and must not be overwritten.
    read_ms = _now_ms()
    if cp.get("queue"):
        dept_id, rest = cp["queue"][0], list(cp["queue"][1:])
        if Department.objects.filter(tenant=tenant, dept_id=dept_id, generation=gen).exists():
            read = None  # reached twice (overlapping authorized subtrees): walked already
        else:
            read = dept_read(client, caller, dept_id)
        if read is not None and read.dept is not None:
            rest += [c for c in read.children if c not in rest]
        cp["queue"] = rest
        users = read.users if read is not None and read.dept is not None else []
        depts = [read.dept] if read is not None and read.dept is not None else []
        cp["walked"] += 1 if depts else 0
    else:
        chunk = cp["users_left"][:USERS_PER_STEP]
        users, _missing = users_read(client, caller, chunk)
        cp["users_left"] = cp["users_left"][USERS_PER_STEP:]
        depts = []
    cp["calls"] += caller.calls - before

    def write():
        # Taken under the sync row's lock (see incremental._write_lock): writes commit in the
        # order of their stamps, so the ETag's newest stamp moves with each.
        now = clock.now()
        # A user on a second department's page of this walk is merged, not drift.
        again = set(User.objects.filter(tenant=tenant, generation=gen, userid__in=[
            u.userid for u in users]).values_list("userid", flat=True))
        dw = store.depts_upsert(tenant=tenant, depts=depts, generation=gen,
                                modified_ms=read_ms, now=now, synced=True)
        uw = store.users_upsert(tenant=tenant, users=users, generation=gen,
                                modified_ms=read_ms, now=now, synced=True)
        cp["added"] += len(dw.inserted) + len(uw.inserted)
        cp["changed"] += len(dw.changed) + len(uw.changed - again)

    return _step(sync, owner, write, checkpoint=cp, calls=cp["calls"])


def _finish(sync: DirectorySync, owner: str) -> str:
    cp, tenant = sync.checkpoint, sync.tenant
    result = {}

    def write():
        now = result["now"] = clock.now()  # under the lock, as _advance's
        deleted = store.unseen_delete(tenant=tenant, generation=sync.generation,
                                      before_ms=cp["started_ms"], now=now)
        cleared = store.memberships_outside_reset(tenant=tenant, now=now)
        result["drift"] = {"added": cp["added"], "changed": cp["changed"] + len(cleared),
                           "deleted": deleted["departments"] + deleted["users"]}
        result["departments"] = Department.objects.filter(
            tenant=tenant, deleted_at__isnull=True).count()
        result["users"] = User.objects.filter(tenant=tenant, deleted_at__isnull=True).count()
        result["rerun"] = DirectorySync.objects.get(pk=sync.pk).rerun

    done = _step(sync, owner, write)
    if not done:
        return "lost lease"
    now = result["now"]
    finished = DirectorySync.objects.filter(pk=sync.pk, lease_owner=owner).update(
        status=Status.QUEUED if result["rerun"] else Status.IDLE, rerun=False,
        reason="rerun" if result["rerun"] else sync.reason, lease_owner="",
        lease_expires_at=None, finished_at=now, last_success_at=now, attempts=0,
        next_attempt_at=(now + timedelta(seconds=settings.DIRECTORY_SYNC_LEASE)
                         if result["rerun"] else None),
        department_count=result["departments"], user_count=result["users"],
        drift=result["drift"], calls=cp["calls"], checkpoint={}, error="")
    if finished and result["rerun"]:
        # Only now that it says queued: a task published earlier found it still running,
        # was not claimed, and left the rerun to the sweep a lease later.
        _enqueue(tenant.pk)
    # Sent once the sync row says it succeeded (no transaction is open here), so a receiver
    # reading mirror_state sees this sync's synced_at and freshness.
    directory_changed.send(sender=Tenant, tenant=tenant, reason="sync",
                           generation=sync.generation)
    logger.info("directory sync of tenant %s done: generation %s, %s calls, drift %s",
                tenant.pk, sync.generation, cp["calls"], result["drift"])
    return "done"


def _fail(sync: DirectorySync, owner: str, error: Exception) -> None:
    """Keep the checkpoint; the sweep resumes from it after a backoff."""
    now = clock.now()
    attempts = sync.attempts + 1
    delay = min(settings.DIRECTORY_SYNC_RETRY_MAX,
                settings.DIRECTORY_SYNC_RETRY_BASE * 2 ** (attempts - 1))
    retry_after = getattr(error, "retry_after", None) or 0
    delay = max(delay, int(retry_after))
    text = f"{type(error).__name__}: {error}"[:500]
    DirectorySync.objects.filter(pk=sync.pk, lease_owner=owner).update(
        status=Status.FAILED, attempts=attempts, lease_owner="", lease_expires_at=None,
        next_attempt_at=now + timedelta(seconds=delay), last_failure_at=now, error=text,
        finished_at=now)
    logger.warning("directory sync of tenant %s failed (attempt %s, again in %s s): %s",
                   sync.tenant_id, attempts, delay, text)
