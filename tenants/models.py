"""Suites, their tickets and tokens, the corps that installed them, and the callback inbox."""

from django.db import models

from core.fields import EncryptedJSONField, EncryptedTextField


class Suite(models.Model):
    """One ISV app ("suite") registered with DingTalk; its secrets are encrypted at rest."""

    class PushStyle(models.TextChoices):
        HTTP = "http", "HTTP push (legacy EventType callbacks)"
        SYNC_HTTP = "sync_http", "SyncHTTP push (bizData rows)"

    class MessageApi(models.TextChoices):
        ASYNCSEND_V2 = "asyncsend_v2", "asyncsend_v2"
        SEND_BY_TEMPLATE = "sendbytemplate", "sendbytemplate (suites created after 2020-11-27)"

    name = models.CharField(max_length=100, blank=True)
    suite_key = models.CharField(max_length=64, unique=True)
    # Numeric ids: suite_id appears in SyncHTTP rows as subscribe_id "<suite_id>_0".
    suite_id = models.CharField(max_length=32, blank=True, db_index=True)
    app_id = models.CharField(max_length=32, blank=True)
    suite_secret = EncryptedTextField()
    callback_token = EncryptedTextField()
    encoding_aes_key = EncryptedTextField()
    push_style = models.CharField(
        max_length=16, choices=PushStyle.choices, default=PushStyle.SYNC_HTTP
    )
    message_api = models.CharField(
        max_length=16, choices=MessageApi.choices, default=MessageApi.ASYNCSEND_V2
    )
    # Template ids for sendbytemplate, by our own name: {"notice": "tpl-123"}.
    template_ids = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["suite_key"]

    def __str__(self) -> str:
        return self.name or self.suite_key

    def __repr__(self) -> str:
        return f"<Suite {self.suite_key}>"


class SuiteTicket(models.Model):
    """Every suite_ticket DingTalk pushed; the current one is the newest by DingTalk's timestamp."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="tickets")
    ticket = EncryptedTextField()
    # sha256 of the ticket, so a repeated push is recognised without decrypting every row.
    ticket_digest = models.CharField(max_length=64)
    # DingTalk's own time for the push (TimeStamp / gmt_modified, ms): it orders tickets, so a
    # late retry of an older push never replaces a newer ticket.
    pushed_at_ms = models.BigIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pushed_at_ms", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "ticket_digest"], name="uniq_suite_ticket"),
        ]
        indexes = [models.Index(fields=["suite", "-pushed_at_ms"], name="suite_ticket_latest")]

    def __str__(self) -> str:
        return f"ticket of suite {self.suite_id} pushed at {self.pushed_at_ms}"

    def __repr__(self) -> str:
        return f"<SuiteTicket suite={self.suite_id} pushed_at_ms={self.pushed_at_ms}>"


class Tenant(models.Model):
    """One corp (auth_corpid) that authorized one suite."""

    class Status(models.TextChoices):
        # HTTP push: the permanent code is traded and kept, activate_suite not yet done.
        AUTHORIZING = "authorizing", "Authorizing (activation not finished)"
        AUTHORIZED = "authorized", "Authorized"
        APP_STOPPED = "app_stopped", "App stopped by the corp"
        RELIEVED = "relieved", "Relieved (de-authorized)"

    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="tenants")
    corp_id = models.CharField(max_length=64)
    corp_name = models.CharField(max_length=200, blank=True)
    full_corp_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AUTHORIZED)
    # An operator's hold, independent of what DingTalk says about the corp.
    suspended = models.BooleanField(default=False)
    agent_id = models.BigIntegerField(null=True, blank=True)
    app_id = models.BigIntegerField(null=True, blank=True)
    auth_user_id = models.CharField(max_length=64, blank=True)
    auth_info = models.JSONField(default=dict, blank=True)
    auth_scopes = models.JSONField(default=dict, blank=True)
    # Only suites on the legacy HTTP-push flow get a permanent code.
    permanent_code = EncryptedTextField(blank=True, default="")
    authorized_at = models.DateTimeField(null=True, blank=True)
    relieved_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["suite", "corp_id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "corp_id"], name="uniq_tenant_suite_corp"),
        ]

    def __str__(self) -> str:
        return f"{self.corp_name or self.corp_id} ({self.suite.suite_key})"

    def __repr__(self) -> str:
        return f"<Tenant {self.corp_id} suite={self.suite_id} status={self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.AUTHORIZED and not self.suspended


class AccessToken(models.Model):
    """A cached DingTalk token (suite token or a tenant's corp token), encrypted at rest."""

    class Kind(models.TextChoices):
        SUITE = "suite", "Suite access token"
        CORP = "corp", "Corp access token"

    # The dingtalk token-store key, e.g. "suite:<suite_key>:corp:<corp_id>".
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="access_tokens")
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="access_tokens"
    )
    value = EncryptedTextField()
    expires_at = models.DateTimeField()
    fetched_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"<AccessToken {self.key} expires_at={self.expires_at:%Y-%m-%dT%H:%M:%S}>"


class CallbackEvent(models.Model):
    """The inbox: each decrypted callback event, stored before it is processed.

    Every status says what happens next and who makes it happen (tenants/services/events.py):
    the Celery task runs PENDING events, and the beat-driven sweep re-queues whatever a lost
    message, a dead worker or a due retry left behind, reading `next_attempt_at` and
    `lease_expires_at`, never Celery's countdowns alone.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Queued (the sweep re-queues it if its message is lost)"
        PROCESSING = "processing", "Processing (the sweep takes it back if its lease runs out)"
        DONE = "done", "Done"
        FAILED = "failed", "Failed, will retry at its next attempt time"
        AWAITING_REAUTH = ("awaiting_reauth",
                           "Authorization lost in transit: the sweep asks DingTalk to re-push it")
        DEAD = "dead", "Gave up (see the error; an operator can reprocess it)"
        IGNORED = "ignored", "Ignored (nothing to do; see the note)"

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64)
    corp_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=255)
    # Decrypted payloads can carry permanent codes, so they are encrypted too.
    payload = EncryptedJSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # PENDING/FAILED: when it is due. A PENDING event due well before now lost its message.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a worker last claimed it, and until when that claim holds (renewed while it works).
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "dedupe_key"], name="uniq_event_dedupe"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="event_status_received"),
            models.Index(fields=["status", "next_attempt_at"], name="event_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    def __repr__(self) -> str:
        return f"<CallbackEvent {self.kind} suite={self.suite_id} status={self.status}>"
