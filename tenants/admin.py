"""Django admin for suites and cached tokens (tenants and the inbox: admin_tenants.py;
internal apps: admin_apps.py).

Secrets never reach a page: the suite form has write-only password inputs that keep the stored
value when left blank, and token values, tickets and permanent codes are never rendered.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse

from core import clock
from core.redact import MASK
from tenants import admin_apps  # noqa: F401  (registers InternalApp)
from tenants.admin_tenants import secret_field
from tenants.models import AccessToken, Suite
from tenants.selectors.suites import suite_tickets_newest_first
from tenants.services.lifecycle import suite_data_policy_check, suite_data_policy_set
from tenants.services.suites import SuiteInvalid, suite_register, suite_validate

SECRET_FIELDS = ("suite_secret", "callback_token", "encoding_aes_key")


def humanize_seconds(seconds: float) -> str:
    seconds = int(abs(seconds))
    units = [("d", 86400), ("h", 3600), ("min", 60)]
    parts = []
    for name, size in units:
        if seconds >= size:
            parts.append(f"{seconds // size} {name}")
            seconds %= size
    return " ".join(parts[:2]) or f"{seconds} s"


class SuiteAdminForm(forms.ModelForm):
    new_suite_secret = secret_field("Suite secret")
    new_callback_token = secret_field("Callback token")
    new_encoding_aes_key = secret_field("EncodingAESKey")
    # Not required: a form posted without it keeps the stored policy (or the default).
    data_policy = forms.ChoiceField(choices=Suite.DataPolicy.choices, required=False)

    class Meta:
        model = Suite
        fields = ["suite_key", "name", "suite_id", "app_id", "push_style", "message_api",
                  "template_ids", "data_policy", "data_grace_days"]

    def clean(self):
        data = super().clean()
        stored = self.instance if self.instance.pk else None
        self.secret_values = {
            name: data.get(f"new_{name}") or (getattr(stored, name) if stored else "")
            for name in SECRET_FIELDS
        }
        try:
            suite_validate(
                suite_key=data.get("suite_key") or self.instance.suite_key,
                suite_id=data.get("suite_id") or "", app_id=data.get("app_id") or "",
                name=data.get("name") or "", push_style=data.get("push_style"),
                message_api=data.get("message_api"), template_ids=data.get("template_ids"),
                **self.secret_values,
            )
            suite_data_policy_check(
                policy=data.get("data_policy") or self.instance.data_policy,
                grace_days=data.get("data_grace_days"))
        except SuiteInvalid as exc:
            for field, problem in exc.extra["fields"].items():
                target = f"new_{field}" if field in SECRET_FIELDS else field
                self.add_error(target if target in self.fields else None, problem)
        return data


@admin.register(Suite)
class SuiteAdmin(admin.ModelAdmin):
    form = SuiteAdminForm
    list_display = ["suite_key", "name", "push_style", "message_api", "ticket_age",
                    "token_state", "tenant_count"]
    list_filter = ["push_style", "message_api"]
    search_fields = ["suite_key", "name", "suite_id"]
    status_fields = ["callback_path", "ticket_age", "token_state", "tenant_count", "created_at",
                     "updated_at"]

    def get_queryset(self, request):
        latest_ticket = suite_tickets_newest_first(suite=OuterRef("pk"))
        suite_token = AccessToken.objects.filter(
            suite=OuterRef("pk"), kind=AccessToken.Kind.SUITE).order_by("-expires_at")
        return super().get_queryset(request).annotate(
            latest_ticket_ms=Subquery(latest_ticket.values("pushed_at_ms")[:1]),
            suite_token_expires=Subquery(suite_token.values("expires_at")[:1]),
            tenants_total=Count("tenants", distinct=True),
        )

    def get_readonly_fields(self, request, obj=None):
        # The key names the callback URL and the tokens; a new key is a new suite.
        return [*self.status_fields, "suite_key"] if obj else self.status_fields

    def get_fieldsets(self, request, obj=None):
        main = ["suite_key", "name", "suite_id", "app_id", "push_style", "message_api",
                "template_ids"]
        secrets = [f"new_{name}" for name in SECRET_FIELDS]
        sets = [(None, {"fields": main}), ("Secrets (write-only)", {"fields": secrets}),
                ("Customer data after a relieve (docs/data-lifecycle.md)",
                 {"fields": ["data_policy", "data_grace_days"]})]
        if obj:
            sets.append(("State", {"fields": self.status_fields}))
        return sets

    @admin.display(description="Ticket age")
    def ticket_age(self, obj):
        pushed_ms = getattr(obj, "latest_ticket_ms", None)
        if pushed_ms is None:
            return "none yet (DingTalk has not pushed a ticket)"
        age = clock.now().timestamp() - pushed_ms / 1000
        return f"{humanize_seconds(age)} ago" if age >= 0 else "pushed in the future?"

    @admin.display(description="Suite token")
    def token_state(self, obj):
        expires = getattr(obj, "suite_token_expires", None)
        if expires is None:
            return "none"
        left = (expires - clock.now()).total_seconds()
        stamp = expires.strftime("%Y-%m-%d %H:%M UTC")
        if left <= 0:
            return f"expired {humanize_seconds(left)} ago ({stamp})"
        return f"valid, expires in {humanize_seconds(left)} ({stamp})"

    @admin.display(description="Tenants", ordering="tenants_total")
    def tenant_count(self, obj):
        total = getattr(obj, "tenants_total", None)
        return obj.tenants.count() if total is None else total

    @admin.display(description="Callback URL path")
    def callback_path(self, obj):
        return reverse("tenants:suite_callback", kwargs={"suite_key": obj.suite_key})

    def save_model(self, request, obj, form, change):
        suite = suite_register(
            suite_key=obj.suite_key, suite_id=obj.suite_id, app_id=obj.app_id, name=obj.name,
            push_style=obj.push_style, message_api=obj.message_api,
            template_ids=obj.template_ids or None, **form.secret_values,
        )
        suite_data_policy_set(
            suite=suite, policy=obj.data_policy or Suite.DataPolicy.DELETE_AFTER_GRACE,
            grace_days=obj.data_grace_days)
        obj.pk = suite.pk
        obj.refresh_from_db()


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ["key", "kind", "suite", "tenant", "state", "expires_at", "fetched_at"]
    list_filter = ["kind", "suite"]
    search_fields = ["key"]
    list_select_related = ["suite", "tenant", "tenant__suite"]
    fields = ["key", "kind", "suite", "tenant", "masked_value", "state", "expires_at",
              "fetched_at"]
    readonly_fields = fields

    @admin.display(description="Value")
    def masked_value(self, obj):
        return MASK

    @admin.display(description="State")
    def state(self, obj):
        left = (obj.expires_at - clock.now()).total_seconds()
        return f"valid for {humanize_seconds(left)}" if left > 0 else "expired"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
