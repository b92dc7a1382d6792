"""Operators' pages for outbound webhooks: endpoints (the secret shown once, at creation or
rotation, masked ever after), events, and deliveries with their attempts (replayable)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from api.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from api.services.webhooks import (
    webhook_endpoint_check,
    webhook_endpoint_create,
    webhook_events_check,
    webhook_secret_rotate,
)
from api.services.webhooks_delivery import webhook_delivery_replay
from api.services.webhooks_errors import WebhookEndpointInvalid, WebhookUrlRefused
from api.services.webhooks_urls import url_check


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEventType.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type, present and future.")

    class Meta:
        model = WebhookEndpoint
        fields = ["suite", "app", "url", "description", "events", "is_active"]

    def clean(self):
        data = super().clean()
        try:
            if self.instance.pk is None:
                data["events"] = webhook_endpoint_check(
                    suite=data.get("suite"), app=data.get("app"), url=data.get("url") or "",
                    events=data.get("events") or ())
            else:
                data["events"] = webhook_events_check(events=data.get("events") or ())
                if "url" in self.changed_data:
                    url_check(data.get("url") or "")
        except (WebhookEndpointInvalid, WebhookUrlRefused) as exc:
            raise forms.ValidationError(exc.message) from None
        return data


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["attempted_at", "response_status", "duration_ms", "error",
                                "response_body"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["id", "owner", "url", "is_active", "secret_masked", "created_at"]
    list_filter = ["is_active", "suite"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_masked", "created_at", "updated_at", "secret_rotated_at",
                       "previous_secret_until"]
    actions = ["rotate_secret"]

    @admin.display(description="owner")
    def owner(self, obj: WebhookEndpoint) -> str:
        return obj.owner_label

    @admin.display(description="secret")
    def secret_masked(self, obj: WebhookEndpoint) -> str:
        return obj.secret_masked

    @admin.display(description="previous secret signs until")
    def previous_secret_until(self, obj: WebhookEndpoint):
        return obj.previous_secret_until

    def get_readonly_fields(self, request, obj=None):
        # The owner is fixed once the endpoint exists: make a new endpoint instead.
        if obj is not None:
            return [*self.readonly_fields, "suite", "app"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = webhook_endpoint_create(
            suite=data.get("suite"), app=data.get("app"), url=data["url"],
            events=data.get("events") or (), description=data.get("description") or "",
            is_active=data.get("is_active", True))
        obj.pk = created.endpoint.pk
        obj.created_at, obj.secret_hint = created.endpoint.created_at, created.endpoint.secret_hint
        messages.warning(request, f"Copy this webhook secret now; it is not shown again: "
                                  f"{created.secret}")

    @admin.action(description="Rotate the secret of the selected endpoints (shown once; the "
                              "old one still signs for API_WEBHOOK_SECRET_OVERLAP_S)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            rotated = webhook_secret_rotate(endpoint=endpoint)
            until = rotated.endpoint.previous_secret_until
            messages.warning(request, f"New secret of webhook {endpoint.pk}, shown once: "
                                      f"{rotated.secret} (the old one signs too until "
                                      f"{until:%Y-%m-%d %H:%M:%S} UTC)" if until else
                             f"New secret of webhook {endpoint.pk}, shown once: "
                             f"{rotated.secret}")


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(_ReadOnly):
    list_display = ["event_id", "event_type", "tenant", "created_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id", "tenant__corp_id"]
    readonly_fields = ["event_id", "event_type", "tenant", "notification", "payload",
                       "created_at"]
    exclude = ["dedupe_key"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = ["id", "event_type", "event_id", "endpoint", "status", "attempts",
                    "next_attempt_at", "created_at", "replay_of"]
    list_filter = ["status", "event__event_type"]
    search_fields = ["event__event_id", "event__tenant__corp_id"]
    list_select_related = ["event", "endpoint", "endpoint__suite", "endpoint__app"]
    readonly_fields = ["event", "endpoint", "status", "attempts", "next_attempt_at",
                       "lease_expires_at", "queued_at", "last_error", "replay_of", "created_at",
                       "finished_at"]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description="event type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.event_type

    @admin.display(description="event id")
    def event_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.event_id)

    @admin.action(description="Replay: deliver the same event (same event id) again")
    def replay(self, request, queryset):
        inactive = 0
        for delivery in queryset.select_related("endpoint"):
            if not delivery.endpoint.is_active:
                inactive += 1
                continue
            webhook_delivery_replay(delivery=delivery)
        self.message_user(request, f"Queued {queryset.count() - inactive} replays.")
        if inactive:
            self.message_user(request, f"{inactive} skipped: their endpoint is inactive.",
                              messages.WARNING)
