"""The directory mirror: each tenant's departments, users and memberships as DingTalk gave them,
the state of its full sync, and the contact rows already applied (eventId dedupe).

Only what DingTalk gives third-party apps is stored (PROTOCOL 4, PROTOCOL-ISV 4.1): no mobile,
email, telephone, work place, remark, hired date or source identifier. Names are optional
(contact-encrypted tenants get ids only). Rows are soft-deleted (`deleted_at`) and carry the
`generation` of the full sync that last saw them; `modified_ms` is DingTalk's modification time
of the newest row or fetch applied, so an older push never overwrites a newer state.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tenants.models import Tenant


class MirroredRow(models.Model):
    """What every mirrored department and user carries besides DingTalk's fields: the sync
    generation that last saw it, its soft deletion, the newest DingTalk state applied
    (`modified_ms`: an older row never overwrites it), the last full sync that wrote it, and
    when anything a reader sees last changed (the ETag reads it)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    generation = models.PositiveBigIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    modified_ms = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True


class Department(MirroredRow):
    """One department of a tenant's corp (root id 1), as the tenant's scope shows it."""

    dept_id = models.BigIntegerField()
    # Blank for contact-encrypted tenants (PROTOCOL-ISV 4.1): never invented.
    name = models.CharField(max_length=255, blank=True)
    # None for the root, and while a pushed row (ISV v1 department/get has no parentid) has
    # not been completed by a v2 fetch.
    parent_id = models.BigIntegerField(null=True, blank=True)
    order = models.BigIntegerField(null=True, blank=True)
    manager_userids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dept_id"], name="uniq_dir_dept"),
        ]
        indexes = [
            models.Index(fields=["tenant", "parent_id"], name="dir_dept_parent",
                         condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["tenant", "generation"], name="dir_dept_generation"),
            models.Index(fields=["tenant", "-updated_at"], name="dir_dept_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name or '(no name)'} ({self.dept_id})"


class User(MirroredRow):
    """One user of a tenant's corp; memberships (with order and leader flag) are Membership."""

    userid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    # auth/scopes lists avatar among the fields third-party apps read (PROTOCOL 4.5).
    avatar = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=False)
    is_admin = models.BooleanField(default=False)
    is_boss = models.BooleanField(default=False)
    # None when the answer did not say (PROTOCOL 4.4's user/list rows carry no `senior`).
    is_senior = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "userid"], name="uniq_dir_user"),
        ]
        indexes = [
            models.Index(fields=["tenant", "userid"], name="dir_user_live",
                         condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["tenant", "unionid"], name="dir_user_unionid"),
            models.Index(fields=["tenant", "generation"], name="dir_user_generation"),
            models.Index(fields=["tenant", "-updated_at"], name="dir_user_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name or '(no name)'} ({self.userid})"


class Membership(models.Model):
    """A user's place in one department (a department not mirrored yet is allowed: dangling)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    userid = models.CharField(max_length=64)
    dept_id = models.BigIntegerField()
    # None when the source did not say (a department outside the walk, seen only in
    # dept_id_list).
    order = models.BigIntegerField(null=True, blank=True)
    is_leader = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "userid", "dept_id"],
                                    name="uniq_dir_membership"),
        ]
        indexes = [
            models.Index(fields=["tenant", "dept_id"], name="dir_membership_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.userid} in {self.dept_id}"


class DirectorySync(models.Model):
    """The full sync of one tenant's mirror: what runs, what comes next, where a walk stands.

    Statuses and what moves them on:
    - idle: nothing to do until a trigger (authorization, scope change, nightly, "sync now").
    - queued: a sync is wanted; the task claims it, or the sweep re-sends it when
      `next_attempt_at` passes.
    - running: a worker holds the lease; if it dies the sweep resumes from `checkpoint` once
      `lease_expires_at` passes.
    - failed: the last attempt failed (`error`); the sweep retries it at `next_attempt_at`.
    `rerun` asks for one more sync after the running one (a scope changed mid-walk).
    """

    class Status(models.TextChoices):
        IDLE = "idle", "idle"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        FAILED = "failed", "failed"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IDLE)
    reason = models.CharField(max_length=32, blank=True)
    rerun = models.BooleanField(default=False)
    # The generation being walked (running) or last finished; rows seen carry it.
    generation = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Who holds the lease: a worker whose lease was taken over stops at its next checkpoint.
    lease_owner = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    nightly_due_at = models.DateTimeField(null=True, blank=True)
    department_count = models.PositiveIntegerField(default=0)
    user_count = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    # Rows the last finished sync changed, added or deleted (what pushes had missed).
    drift = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # sha256 of the auth/scopes the last walk started from: a tenant_changed whose scopes
    # differ queues a sync, one that only renamed the corp does not.
    scope_digest = models.CharField(max_length=64, blank=True)
    # The walk's resumable state: phase, BFS queue, authed users left, counters.
    checkpoint = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="dir_sync_due"),
            models.Index(fields=["status", "lease_expires_at"], name="dir_sync_lease"),
            models.Index(fields=["nightly_due_at"], name="dir_sync_nightly"),
        ]

    def __str__(self) -> str:
        return f"directory sync of tenant {self.tenant_id}: {self.status}"


class AppliedContactEvent(models.Model):
    """A contact row (by DingTalk's eventId, else its row dedupe key) already applied."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    applied_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="uniq_dir_applied_event"),
        ]
        indexes = [models.Index(fields=["applied_at"], name="dir_applied_event_age")]

    def __str__(self) -> str:
        return f"{self.key} ({self.tenant_id})"
