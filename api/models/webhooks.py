"""Outbound webhooks (Saleor's model): endpoints per owner, events, one delivery per (event,
endpoint) with its attempts, and the notification scan's watermark."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from api.models.owners import SuiteOrAppOwned
from core import clock
from core.fields import EncryptedTextField
from tenants.models import Suite, Tenant


class WebhookEventType(models.TextChoices):
    TENANT_AUTHORIZED = "tenant.authorized", "A corp authorized the suite"
    TENANT_CHANGED = "tenant.changed", "A tenant's auth info, scopes or names changed"
    TENANT_RELIEVED = "tenant.relieved", "A corp de-authorized the suite"
    TENANT_APP_STOPPED = "tenant.app_stopped", "The corp's admin stopped the app"
    TENANT_APP_RESTORED = "tenant.app_restored", "The corp's admin restored the app"
    NOTIFICATION_COMPLETED = ("notification.completed",
                              "A notification finished: completed or partially failed")
    NOTIFICATION_FAILED = "notification.failed", "A notification failed: nobody was sent to"
    TENANT_ENTITLEMENT_CHANGED = ("tenant.entitlement_changed",
                                  "A tenant's entitlement changed (edition, seats, kind, expiry)")
    ORDER_PAID = "order.paid", "A paid in-app order waits for the product to fulfil it"
    DIRECTORY_CHANGED = ("directory.changed",
                         "A tenant's directory mirror changed: a full sync or pushed rows")


class WebhookEndpoint(SuiteOrAppOwned, models.Model):
    """A URL of the ISV's product that hears events about one owner's tenants (a suite's, or an
    internal app's own), signed with the endpoint's secret."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="webhook_endpoints",
                              null=True, blank=True)
    app = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints",
                            null=True, blank=True,
                            limit_choices_to={"kind": Tenant.Kind.INTERNAL_APP})
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    # Shown once (creation, rotation); the hint is its last characters, to tell secrets apart.
    secret = EncryptedTextField(editable=False)
    secret_hint = models.CharField(max_length=8, editable=False, default="")
    # Event types it hears; empty: every type, present and future.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The secret a rotation replaced still signs (beside the new one) until then, so receivers
    # can redeploy without failing deliveries; encrypted like `secret`, never shown again, and
    # emptied once expired (by the delivery that notices, and by the sweep).
    previous_secret = EncryptedTextField(editable=False, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "webhook endpoint"
        constraints = [
            models.CheckConstraint(
                condition=Q(suite__isnull=False, app__isnull=True)
                | Q(suite__isnull=True, app__isnull=False),
                name="webhook_endpoint_one_owner"),
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.owner_label})"

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.pk} owner={self.owner_label} active={self.is_active}>"

    @property
    def secret_masked(self) -> str:
        return f"whsec_…{self.secret_hint}" if self.secret_hint else ""

    def signing_secrets(self, now) -> list[str]:
        """The secrets deliveries are signed with at `now`: the current one, then the previous
        one while its overlap lasts."""
        if self.previous_secret and self.previous_secret_expires_at and \
                self.previous_secret_expires_at > now:
            return [self.secret, self.previous_secret]
        return [self.secret]

    @property
    def previous_secret_until(self):
        """When the previous secret stops signing; None when only the current one signs."""
        if len(self.signing_secrets(clock.now())) == 2:
            return self.previous_secret_expires_at
        return None

    def hears(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookEvent(models.Model):
    """Something that happened to a tenant, with the exact payload every delivery sends.

    `event_id` is what receivers dedupe on (X-Dingsuite-Event-Id): a retry or a replay carries
    the same one. Only recorded when some active endpoint of the owner hears its type.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_events")
    # Notification events: the notification (one event per type and notification).
    notification = models.ForeignKey("messaging.Notification", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="webhook_events")
    # Lifecycle events: type, tenant and the tenant row's updated_at, so a signal sent twice for
    # one committed change records one event.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "webhook event"
        constraints = [
            models.UniqueConstraint(fields=["event_type", "notification"],
                                    condition=Q(notification__isnull=False),
                                    name="uniq_webhook_event_notification"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint, until it succeeds or fails for good.

    The deliver task claims it by setting `lease_expires_at` (a conditional update); the sweep
    queues again what is due (`next_attempt_at` past, no live lease) and was not queued lately
    (`queued_at`): a lost message, a dead worker, a retry's backoff. At least once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: queued for its first attempt"
        RETRYING = ("retrying", "Retrying: the last attempt failed (5xx, timeout, connection); "
                    "the sweep queues the next at next_attempt_at")
        SUCCESS = "success", "Success: final; the endpoint answered 2xx"
        FAILED = "failed", "Failed: final; a 4xx, a refused address, or out of attempts"

    OPEN = (Status.PENDING, Status.RETRYING)

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # A replay's origin (the admin's "replay": same event, new delivery).
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="replays")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["pending",
                                                                             "retrying"]),
                         name="webhook_delivery_open_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back (the body truncated)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_rows")
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "webhook attempt"
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} ({self.response_status or self.error[:40]})"


class WebhookScanMark(models.Model):
    """How far a scan has read (the notification scan: the newest completed_at it handled)."""

    name = models.CharField(max_length=40, primary_key=True)
    mark = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.mark:%Y-%m-%dT%H:%M:%S}"
