"""Work notifications: the notification, its batches (one DingTalk task each), its recipients,
and the per (app, corp, user, day) ledger that keeps sends under DingTalk's daily rules.

Every status says what happens next and what makes it happen. Planning
(messaging/services/planning.py) turns an ACCEPTED notification into recipients and batches;
the sending and polling of batches is built on these rows by the send and poll services.
"""

from django.db import models
from django.db.models import Q

from tenants.models import Tenant


class Notification(models.Model):
    """One work notification a tenant asked for: its audience, its message, where it stands."""

    class Status(models.TextChoices):
        ACCEPTED = ("accepted", "Accepted: the planning task expands it (the sweep re-queues it "
                    "once next_attempt_at is past and its message was lost)")
        PLANNING = ("planning", "Planning: a worker expands the audience under a lease; "
                    "-> sending or completed, back to accepted for a retry, or the sweep takes "
                    "it back when the lease runs out")
        SENDING = ("sending", "Sending: its batches are handed to DingTalk by the send tasks "
                   "(deferred recipients are planned again at next_attempt_at); -> sent")
        SENT = ("sent", "Sent: every batch has a DingTalk task; the poller records outcomes; "
                "-> completed, partially failed or failed")
        COMPLETED = ("completed", "Completed: every recipient has a final outcome, none failed")
        PARTIALLY_FAILED = ("partially_failed",
                            "Partially failed: final; some recipients failed (see counts)")
        FAILED = ("failed", "Failed: final; nobody could be sent to (see last_error)")
        HELD = ("held", "Held: the tenant is stopped or suspended; resumes when it is restored "
                "(the lifecycle signals)")
        CANCELLED = ("cancelled", "Cancelled: final; nothing that was not yet sent is sent")
        RECALLED = ("recalled", "Recalled: final; its sent batches were withdrawn")

    FINAL = frozenset({Status.COMPLETED, Status.PARTIALLY_FAILED, Status.FAILED,
                       Status.CANCELLED, Status.RECALLED})

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="notifications")
    # Unique per tenant when given (empty: none).
    idempotency_key = models.CharField(max_length=128, blank=True, default="")
    # sha256 of the canonical request: a repeated key with another body is a conflict.
    request_digest = models.CharField(max_length=64)
    # The audience as asked for; planning expands it into Recipient rows.
    userids = models.JSONField(default=list, blank=True)
    dept_ids = models.JSONField(default=list, blank=True)
    to_all_user = models.BooleanField(default=False)
    # Keep DingTalk's own to_all_user (one task, no per-recipient outcomes) instead of
    # expanding the whole company into userids.
    to_all_user_native = models.BooleanField(default=False)
    # The seed's asyncsend_v2: exactly one batch carrying userids, dept_ids and to_all_user as
    # given (DingTalk's own list limits: 100 userids, 20 dept ids), DingTalk expanding the
    # departments; planning still books the ledger and the send still takes the limiter.
    single_batch = models.BooleanField(default=False)
    # The `msg` as dingtalk.messages.from_dict checked it; or a template for suites whose
    # message_api is sendbytemplate (then msg is null).
    msg = models.JSONField(null=True, blank=True)
    template_id = models.CharField(max_length=128, blank=True, default="")
    template_data = models.JSONField(null=True, blank=True)
    # sha256 of the canonical content: the ledger's "identical content" key.
    content_digest = models.CharField(max_length=64)
    # Recipients held by the ledger wait for the next day instead of a final held_back.
    defer_held = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACCEPTED)
    recipient_count = models.PositiveIntegerField(default=0)
    # {outcome: n} over its recipients, refreshed from them (notification_counts_refresh).
    counts = models.JSONField(default=dict, blank=True)
    # Departments planning could not read: [{"dept_id", "errcode", "errmsg"}].
    dept_errors = models.JSONField(default=list, blank=True)
    plan_attempts = models.PositiveIntegerField(default=0)
    # ACCEPTED: when planning is due (a retry's backoff); SENDING: when deferred recipients
    # are due (the next day). The sweep reads it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="uniq_notification_idempotency"),
            models.CheckConstraint(
                condition=~Q(userids=[]) | ~Q(dept_ids=[]) | Q(to_all_user=True),
                name="notification_has_audience"),
            models.CheckConstraint(
                condition=Q(msg__isnull=False, template_id="")
                | Q(msg__isnull=True) & ~Q(template_id=""),
                name="notification_msg_or_template"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_status_due"),
            models.Index(fields=["tenant", "-created_at"], name="notification_tenant_recent"),
            # api's webhook scan reads finished notifications by completed_at, the retention
            # purge the old ones.
            models.Index(fields=["completed_at"], name="notification_completed",
                         condition=Q(completed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.status})"

    def __repr__(self) -> str:
        return f"<Notification {self.pk} tenant={self.tenant_id} status={self.status}>"


class NotificationBatch(models.Model):
    """At most 100 userids of a notification, sent as one DingTalk task."""

    class Status(models.TextChoices):
        PENDING = ("pending", "Pending: waits for a turn in its tenant's send window (queued_at "
                   "empty; a finished send or the sweep gives it one), then a send task sends it "
                   "at next_attempt_at (the sweep re-queues it if its message was lost)")
        SENDING = ("sending", "Sending: claimed by a sender under a lease; -> sent, unknown, "
                   "failed, or pending again when nothing left")
        SENT = ("sent", "Sent: DingTalk answered a task id; the poller records outcomes until "
                "poll_until; -> done")
        UNKNOWN = ("unknown", "Unknown: the request may have left without an answer; the "
                   "poller settles it (task id), or without one the sweep sends it once more "
                   "the same ledger day (DingTalk drops it for whoever got it: identical "
                   "content) -> pending; past that day it stays unknown (final)")
        DONE = "done", "Done: final; every recipient has an outcome"
        FAILED = "failed", "Failed: final; DingTalk refused the task (errcode in last_error)"
        HELD = ("held", "Held: the tenant is stopped or suspended; pending again when it is "
                "restored")
        CANCELLED = "cancelled", "Cancelled: final; never sent"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE,
                                      related_name="batches")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT,
                               related_name="notification_batches")
    seq = models.PositiveIntegerField()
    # At most 100 (PROTOCOL 3.1's userid_list); empty for a native to_all_user send.
    userids = models.JSONField(default=list)
    # A single-batch notification's departments and to_all_user, passed to DingTalk as given.
    dept_ids = models.JSONField(default=list, blank=True)
    to_all_user = models.BooleanField(default=False)
    # Recipients DingTalk expands dept_ids / to_all_user into, as planning counted them (what
    # the send takes from the limiter); 0: len(userids).
    audience_size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    task_id = models.BigIntegerField(null=True, blank=True)
    # DingTalk's request_id of the send that answered task_id (the seed route answers it).
    request_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    # When a send task was published for it: set, it holds one of its tenant's
    # MESSAGING_SEND_WINDOW_PER_TENANT turns (services/pacing.py); empty, it waits for one.
    queued_at = models.DateTimeField(null=True, blank=True)
    # Sends of an UNKNOWN batch without a task id made again the same day (at most
    # MESSAGING_UNKNOWN_RESENDS): DingTalk's identical-content rule then drops it for anyone
    # the lost send reached, and polling records them as DUPLICATE, not as failed.
    resends = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    content_digest = models.CharField(max_length=64)
    # The ledger day its recipients were booked on (planning's day, or a deferred batch's
    # later day): releases and unknown marks must hit the same ledger rows.
    ledger_day = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Read status is refreshed until then (DingTalk keeps a task for 24 h).
    poll_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "seq"], name="uniq_batch_seq"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="batch_status_due"),
            # The tenant's send window: its queued and sending batches, its next parked one.
            models.Index(fields=["tenant", "status", "queued_at"], name="batch_tenant_window"),
        ]

    def __str__(self) -> str:
        return f"batch {self.seq} of notification {self.notification_id} ({self.status})"

    def __repr__(self) -> str:
        return (f"<NotificationBatch {self.pk} notification={self.notification_id} "
                f"seq={self.seq} status={self.status}>")

    @property
    def progress_only(self) -> bool:
        """A native to_all_user task: no recipient rows, only its progress is followed."""
        return not self.userids and not self.dept_ids and not self.to_all_user


class Recipient(models.Model):
    """One user of a notification and what became of the message for them."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending (not sent yet)"
        SENT = "sent", "Sent (DingTalk has the task; no result yet)"
        READ = "read", "Read"
        UNREAD = "unread", "Delivered, unread"
        INVALID_USER = "invalid_user", "No such user"
        OUT_OF_SCOPE = "out_of_scope", "Outside the app's contact scope"
        INACTIVE = "inactive", "User not active"
        FORBIDDEN = "forbidden", "Dropped by DingTalk (code: its forbidden code)"
        HELD_BACK = "held_back", "Held back by dingsuite (code: the reason)"
        UNKNOWN = "unknown", "Unknown (the send's answer was lost)"
        DUPLICATE = ("duplicate", "Delivered by an earlier send whose answer was lost (the "
                     "resend was dropped by DingTalk as identical content)")
        FAILED = "failed", "Failed"
        RECALLED = "recalled", "Recalled"
        CANCELLED = "cancelled", "Cancelled before sending"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE,
                                     related_name="recipients")
    batch = models.ForeignKey(NotificationBatch, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="recipients")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT,
                               related_name="notification_recipients")
    userid = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    # DingTalk's forbidden code (143105, ...) or dingsuite's held reason (daily_cap, ...).
    code = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "userid"],
                                    name="uniq_recipient_user"),
        ]
        indexes = [
            models.Index(fields=["notification", "outcome"], name="recipient_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.userid} ({self.outcome})"

    def __repr__(self) -> str:
        return (f"<Recipient {self.userid} notification={self.notification_id} "
                f"outcome={self.outcome}>")


class LedgerEntry(models.Model):
    """One message booked for a user on a day (issue 9 §3): DingTalk allows each (app, corp)
    a daily number per user and identical content once a day, and drops the rest silently."""

    class State(models.TextChoices):
        BOOKED = "booked", "Booked (planned or sent)"
        UNKNOWN = "unknown", "Unknown (the send's answer was lost; it may have arrived)"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="ledger_entries")
    # The calendar day in MESSAGING_DAY_TZ (Asia/Shanghai, as DingTalk counts).
    day = models.DateField()
    userid = models.CharField(max_length=64)
    content_digest = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.BOOKED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "tenant", "userid"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "userid", "content_digest"],
                                    name="uniq_ledger_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.userid} on {self.day} ({self.state})"

    def __repr__(self) -> str:
        return f"<LedgerEntry tenant={self.tenant_id} {self.day} {self.userid} {self.state}>"
