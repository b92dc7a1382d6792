"""Suites and their tickets, tenants of both kinds (suite authorizations, internal apps), their
tokens, and the callback inbox."""

from django.db import models
from django.db.models import Q

from core.fields import EncryptedJSONField, EncryptedTextField


class DataPolicy(models.TextChoices):
    DELETE_AFTER_GRACE = ("delete_after_grace",
                          "Delete after the grace period (exported first)")
    KEEP_UNTIL_REQUESTED = ("keep_until_requested",
                            "Keep until an operator deletes it on the customer's request")


class Suite(models.Model):
    """One ISV app ("suite") registered with DingTalk; its secrets are encrypted at rest."""

    DataPolicy = DataPolicy

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
    # What becomes of a relieved tenant's data (docs/data-lifecycle.md): the policy at the
    # relieve decides. Grace empty: TENANTS_DATA_GRACE_DAYS.
    data_policy = models.CharField(
        max_length=24, choices=DataPolicy.choices, default=DataPolicy.DELETE_AFTER_GRACE)
    data_grace_days = models.PositiveIntegerField(null=True, blank=True)
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
    """One corp dingsuite calls DingTalk for: a corp that authorized a suite, or an internal app.

    A suite tenant is (suite, corp_id) and gets its token through the suite (PROTOCOL 6). An
    internal app is the corp's own app, registered by an operator (services/apps.py), with its
    appkey + appsecret, or a legacy corpsecret (PROTOCOL 2.1), and no suite. A corp can be both
    (one row each). Internal apps only ever hold AUTHORIZED: DingTalk pushes them no
    authorization, stop or relieve, so an operator's `suspended` hold is their off switch.
    """

    class Kind(models.TextChoices):
        SUITE = "suite", "Suite authorization"
        INTERNAL_APP = "internal_app", "Internal app"

    class Status(models.TextChoices):
        # HTTP push: the permanent code is traded and kept, activate_suite not yet done.
        AUTHORIZING = "authorizing", "Authorizing (activation not finished)"
        AUTHORIZED = "authorized", "Authorized"
        APP_STOPPED = "app_stopped", "App stopped by the corp"
        RELIEVED = "relieved", "Relieved (de-authorized)"

    class DataStatus(models.TextChoices):
        LIVE = "live", "Live: in use; a relieve schedules or keeps it (the suite's policy)"
        SCHEDULED = ("scheduled", "Scheduled: the daily sweep exports and deletes it after "
                     "data_delete_after; a re-authorization before then cancels that")
        KEPT = ("kept", "Kept: deleted only when an operator does it on the customer's request; "
                "a re-authorization makes it live again")
        DELETING = ("deleting", "Deleting: being exported and deleted under a lease; the sweep "
                    "takes it over if the lease runs out")
        DELETED = ("deleted", "Deleted: only this row (corp id, dates) and the audit row remain; "
                   "a re-authorization starts the tenant afresh")

    class TrailingKey(models.TextChoices):
        # PROTOCOL 8.1 step 3: the corp id for internal apps, the appkey for app-level events
        # configured in the developer console.
        CORP_ID = "corp_id", "Corp id"
        APPKEY = "appkey", "Appkey"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SUITE)
    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="tenants",
                              null=True, blank=True)
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
    # Internal apps: appkey + appsecret, or (appkey empty) the corp's legacy corpsecret.
    app_name = models.CharField(max_length=100, blank=True)
    appkey = models.CharField(max_length=64, blank=True, default="")
    appsecret = EncryptedTextField(blank=True, default="")
    corpsecret = EncryptedTextField(blank=True, default="")
    # Internal apps' own callbacks (/callbacks/apps/<appkey>/); empty: none configured.
    callback_token = EncryptedTextField(blank=True, default="")
    encoding_aes_key = EncryptedTextField(blank=True, default="")
    callback_trailing_key = models.CharField(max_length=8, choices=TrailingKey.choices,
                                             default=TrailingKey.CORP_ID)
    # Non-basic DingTalk calls a month (standard-edition orgs' internal apps: 5,000, 90020;
    # PROTOCOL 10). Empty: TENANTS_MONTHLY_CALL_BUDGET for internal apps, none for suite
    # tenants; 0: no budget (a paid edition). See services/call_budget.py.
    monthly_call_budget = models.PositiveIntegerField(null=True, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    relieved_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The customer's data once they leave (services/lifecycle.py): where it stands, when the
    # sweep deletes it, who holds it while exporting and deleting, and the last export.
    data_status = models.CharField(max_length=12, choices=DataStatus.choices,
                                   default=DataStatus.LIVE)
    data_delete_after = models.DateTimeField(null=True, blank=True)
    data_lease_expires_at = models.DateTimeField(null=True, blank=True)
    data_exported_at = models.DateTimeField(null=True, blank=True)
    data_export_path = models.CharField(max_length=500, blank=True, default="")
    data_export_sha256 = models.CharField(max_length=64, blank=True, default="")
    data_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["suite", "corp_id"]
        indexes = [
            models.Index(fields=["data_status", "data_delete_after"], name="tenant_data_due",
                         condition=Q(data_status__in=["scheduled", "deleting"])),
        ]
        constraints = [
            models.UniqueConstraint(fields=["suite", "corp_id"], condition=Q(kind="suite"),
                                    name="uniq_tenant_suite_corp"),
            models.UniqueConstraint(fields=["appkey"],
                                    condition=Q(kind="internal_app") & ~Q(appkey=""),
                                    name="uniq_tenant_appkey"),
            # A corp has one legacy corpsecret, so one corpsecret app.
            models.UniqueConstraint(fields=["corp_id"],
                                    condition=Q(kind="internal_app", appkey=""),
                                    name="uniq_tenant_corpsecret_corp"),
            models.CheckConstraint(
                condition=Q(kind="suite", suite__isnull=False, appkey="", appsecret="",
                            corpsecret="")
                | Q(kind="internal_app", suite__isnull=True, status="authorized")
                & (Q(appsecret__gt="") & ~Q(appkey="") | Q(appkey="", corpsecret__gt="")),
                name="tenant_kind_credentials"),
        ]

    def __str__(self) -> str:
        name = self.corp_name or self.corp_id
        if self.kind == self.Kind.INTERNAL_APP:
            return f"{name} (internal app {self.app_key_label})"
        return f"{name} ({self.suite.suite_key})"

    def __repr__(self) -> str:
        if self.kind == self.Kind.INTERNAL_APP:
            return f"<Tenant {self.corp_id} app={self.app_key_label} status={self.status}>"
        return f"<Tenant {self.corp_id} suite={self.suite_id} status={self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.AUTHORIZED and not self.suspended

    @property
    def is_internal_app(self) -> bool:
        return self.kind == self.Kind.INTERNAL_APP

    @property
    def app_key_label(self) -> str:
        """The internal app's key in URLs and logs: its appkey, or the corp id (corpsecret)."""
        return self.appkey or self.corp_id


class InternalApp(Tenant):
    """The internal-app tenants, for their own admin page (a proxy: the same table)."""

    class Meta:
        proxy = True
        verbose_name = "internal app"


class AccessToken(models.Model):
    """A cached DingTalk token (suite token, a suite tenant's corp token, or an internal app's
    token) or a tenant's jsapi_ticket, encrypted at rest."""

    class Kind(models.TextChoices):
        SUITE = "suite", "Suite access token"
        CORP = "corp", "Corp access token"
        APP = "app", "Internal app access token"
        JSAPI = "jsapi", "JSAPI ticket (dd.config)"

    # The dingtalk token-store key: "suite:<suite_key>", "suite:<suite_key>:corp:<corp_id>",
    # "app:<appkey>" or "corpsecret:<corp_id>" (dingtalk/tokens.py); a jsapi_ticket's is one of
    # the corp or app keys behind "jsapi:" (identity/jsapi_tickets.py).
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # None for internal apps' tokens.
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="access_tokens",
                              null=True, blank=True)
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

    # A push belongs to the suite whose URL it came to, or (suite None) to the internal app's
    # tenant whose URL it came to; never both.
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="events",
                              null=True, blank=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events",
                               null=True, blank=True)
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
            # Suite events have no tenant (NULLs never clash), internal apps' events no suite.
            models.UniqueConstraint(fields=["tenant", "dedupe_key"],
                                    name="uniq_event_tenant_dedupe"),
            models.CheckConstraint(
                condition=Q(suite__isnull=False, tenant__isnull=True)
                | Q(suite__isnull=True, tenant__isnull=False),
                name="event_suite_or_app_tenant"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="event_status_received"),
            models.Index(fields=["status", "next_attempt_at"], name="event_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    def __repr__(self) -> str:
        owner = f"suite={self.suite_id}" if self.suite_id else f"tenant={self.tenant_id}"
        return f"<CallbackEvent {self.kind} {owner} status={self.status}>"


class MonthlyCallCount(models.Model):
    """A tenant's non-basic DingTalk calls in one month (services/call_budget.py)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="call_counts")
    # The first day of the month, in TENANTS_CALL_BUDGET_TZ.
    month = models.DateField()
    calls = models.PositiveIntegerField(default=0)
    # DingTalk answered 90020 (its count, not ours, is spent): no call until the next month.
    exhausted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "tenant"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="uniq_call_count_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.calls} calls"

    def __repr__(self) -> str:
        return f"<MonthlyCallCount tenant={self.tenant_id} {self.month:%Y-%m} {self.calls}>"


# The audit of deleted tenants lives in its own module (this one is long enough).
from tenants.models_lifecycle import TenantDeletion  # noqa: E402,F401
