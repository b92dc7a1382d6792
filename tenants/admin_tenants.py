"""Django admin for tenants of both kinds (with operator actions) and the callback inbox.

Internal apps are registered and edited on their own page (admin_apps.py); here every tenant is
read-only.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.db.models import Max
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from core import clock
from core.redact import redacted_json
from tenants.admin_lifecycle import LIFECYCLE_FIELDS, TenantDataActions
from tenants.errors import ServiceError
from tenants.models import CallbackEvent, Suite, Tenant
from tenants.services.call_budget import call_budget_summary, tenant_call_budget_set
from tenants.services.events import callback_event_reprocess
from tenants.services.reauth import corp_reauthorize
from tenants.services.tenants import tenant_refresh_auth_info, tenant_resume, tenant_suspend
from tenants.services.tokens import tenant_refresh_token

logger = logging.getLogger("tenants.admin")


def _describe(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.code}: {exc.message}"
    errcode = getattr(exc, "errcode", None)
    detail = str(exc) or "no detail"
    return f"{type(exc).__name__} (errcode {errcode}): {detail}" if errcode is not None \
        else f"{type(exc).__name__}: {detail}"


def run_for_each(modeladmin, request, objects, call, verb: str, label) -> None:
    """Call `call(obj)` for each object; report successes and failures, never raise."""
    done, failed = 0, []
    for obj in objects:
        try:
            call(obj)
            done += 1
        except Exception as exc:  # shown to the operator instead of a 500
            logger.warning("admin %s failed for %s: %s", verb, label(obj), type(exc).__name__)
            failed.append(f"{label(obj)}: {_describe(exc)}")
    if done:
        modeladmin.message_user(request, f"{verb}: {done} done.", messages.SUCCESS)
    if failed:
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        modeladmin.message_user(request, f"{verb} failed for {len(failed)}: "
                                + "; ".join(failed[:10]) + more, messages.ERROR)


def secret_field(label: str) -> forms.CharField:
    """A write-only password input: never rendered back, blank keeps the stored value."""
    return forms.CharField(
        label=label, required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: never shown. Leave blank to keep the stored value.",
    )


def _pre(text: str):
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


class TenantActions:
    """The operator actions both kinds of tenant share (a ModelAdmin mixin)."""

    def action_label(self, tenant) -> str:
        return tenant.corp_id

    def _run(self, request, queryset, service, verb):
        run_for_each(self, request, queryset.select_related("suite"),
                     lambda tenant: service(tenant=tenant), verb, self.action_label)

    @admin.display(description="Calls this month")
    def call_budget_state(self, obj):
        return call_budget_summary(tenant=obj)

    @admin.action(description="Refresh the access token", permissions=["change"])
    def refresh_token(self, request, queryset):
        self._run(request, queryset, tenant_refresh_token, "Refresh token")

    @admin.action(description="Suspend (operator hold)", permissions=["change"])
    def suspend(self, request, queryset):
        self._run(request, queryset, tenant_suspend, "Suspend")

    @admin.action(description="Resume (lift the operator hold)", permissions=["change"])
    def resume(self, request, queryset):
        self._run(request, queryset, tenant_resume, "Resume")


@admin.register(Tenant)
class TenantAdmin(TenantDataActions, TenantActions, admin.ModelAdmin):
    list_display = ["corp_id", "corp_name", "kind", "suite", "appkey", "status", "suspended",
                    "agent_id", "token_state", "scopes_summary", "last_event_at"]
    list_filter = ["kind", "suite", "status", "suspended", "data_status"]
    search_fields = ["corp_id", "corp_name", "full_corp_name", "appkey"]
    list_select_related = ["suite"]
    fields = ["kind", "suite", "appkey", "app_name", "corp_id", "corp_name", "full_corp_name",
              "status", "suspended", "agent_id", "app_id", "auth_user_id",
              "permanent_code_state", "token_state", "scopes_summary", "monthly_call_budget",
              "call_budget_state", "auth_scopes_view", "auth_info_view", "authorized_at",
              "relieved_at", "last_event_at", *LIFECYCLE_FIELDS, "created_at", "updated_at"]
    # Only the budget is an operator's to edit; the rest is DingTalk's word.
    readonly_fields = [f for f in fields if f != "monthly_call_budget"]
    actions = ["refresh_auth_info", "refresh_token", "suspend", "resume", "export_data",
               "delete_data"]

    def has_add_permission(self, request):
        return False  # tenants come from DingTalk's authorisation events

    def save_model(self, request, obj, form, change):
        # One column: a whole-row save would overwrite what a callback changed meanwhile.
        tenant_call_budget_set(tenant=obj, budget=form.cleaned_data.get("monthly_call_budget"))

    def get_queryset(self, request):
        # The newest token's expiry per tenant in the same query (not one query per row).
        return super().get_queryset(request).annotate(token_expires_at=Max(
            "access_tokens__expires_at"))

    @admin.display(description="Token", ordering="token_expires_at")
    def token_state(self, obj):
        expires = getattr(obj, "token_expires_at", None)
        if expires is None:
            return "none yet" if obj.is_active else "-"
        if expires <= clock.now():
            return format_html('<span style="color: #ba2121">expired {} ago</span>',
                               timesince(expires))
        return f"valid for {timeuntil(expires)}"

    @admin.display(description="Permanent code")
    def permanent_code_state(self, obj):
        # Only legacy HTTP-push suites are given one; its absence elsewhere is normal.
        if obj.suite is None or obj.suite.push_style != Suite.PushStyle.HTTP:
            return "not used (signed calls)" if obj.suite else "not used (internal app)"
        if obj.permanent_code:
            return "stored (encrypted)"
        return format_html('<span style="color: #ba2121">{}</span>',
                           "missing (an HTTP-push suite needs it for tokens; see the "
                           "tenant's events)")

    @admin.display(description="Scopes")
    def scopes_summary(self, obj):
        scopes = obj.auth_scopes if isinstance(obj.auth_scopes, dict) else {}
        org = scopes.get("auth_org_scopes") or {}
        depts, users = org.get("authed_dept") or [], org.get("authed_user") or []
        fields = scopes.get("auth_user_field") or []
        if not (depts or users or fields):
            return "-"
        return f"{len(depts)} depts, {len(users)} users, {len(fields)} user fields"

    @admin.display(description="Auth scopes")
    def auth_scopes_view(self, obj):
        return _pre(redacted_json(obj.auth_scopes))

    @admin.display(description="Auth info (secrets masked)")
    def auth_info_view(self, obj):
        return _pre(redacted_json(obj.auth_info))

    @admin.action(description="Refresh auth info and scopes from DingTalk",
                  permissions=["change"])
    def refresh_auth_info(self, request, queryset):
        self._run(request, queryset, tenant_refresh_auth_info, "Refresh auth info")


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = ["id", "suite", "tenant", "kind", "corp_id", "status", "attempts",
                    "received_at", "claimed_at", "next_attempt_at", "processed_at",
                    "error_summary"]
    list_filter = ["suite", "kind", "status"]
    search_fields = ["corp_id"]
    list_select_related = ["suite", "tenant", "tenant__suite"]
    fields = ["suite", "tenant", "kind", "corp_id", "dedupe_key", "status", "attempts",
              "last_error", "received_at", "next_attempt_at", "claimed_at", "lease_expires_at",
              "processed_at", "payload_view"]
    readonly_fields = fields
    actions = ["reprocess", "ask_for_repush"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Last error")
    def error_summary(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description="Payload (secrets masked)")
    def payload_view(self, obj):
        return _pre(redacted_json(obj.payload))

    @admin.action(description="Reprocess the selected events", permissions=["change"])
    def reprocess(self, request, queryset):
        run_for_each(self, request, queryset,
                     lambda event: callback_event_reprocess(event=event), "Reprocess",
                     lambda e: f"event {e.pk}")

    @admin.action(description="Ask DingTalk to re-push these corps' authorization "
                              "(HTTP-push suites; get_unactive_corp + reauth_corp)",
                  permissions=["change"])
    def ask_for_repush(self, request, queryset):
        def ask(event):
            if not corp_reauthorize(suite=event.suite, corp_id=event.corp_id):
                raise ServiceError("DingTalk lists no unactivated authorization for this corp")

        run_for_each(self, request, queryset.select_related("suite").exclude(corp_id="")
                     .filter(suite__isnull=False), ask,
                     "Re-push request", lambda e: f"corp {e.corp_id}")
