"""Django admin for internal apps: registered and edited here, secrets write-only.

The appsecret, corpsecret, callback token and EncodingAESKey are password inputs that are never
rendered back and keep the stored value when left blank; saving goes through app_register, as
`manage.py register_app` does.
"""

from django import forms
from django.contrib import admin
from django.urls import reverse

from tenants.admin_tenants import TenantActions, secret_field
from tenants.models import InternalApp, Tenant
from tenants.selectors.apps import app_find
from tenants.services.apps import AppInvalid, app_register, app_validate
from tenants.services.tenants import tenant_refresh_scopes

SECRET_FIELDS = ("appsecret", "corpsecret", "callback_token", "encoding_aes_key")
MAIN_FIELDS = ["corp_id", "appkey", "app_name", "corp_name", "agent_id",
               "callback_trailing_key"]


class InternalAppAdminForm(forms.ModelForm):
    new_appsecret = secret_field("Appsecret")
    new_corpsecret = secret_field("Corpsecret (legacy apps without an appkey)")
    new_callback_token = secret_field("Callback token")
    new_encoding_aes_key = secret_field("EncodingAESKey")

    class Meta:
        model = InternalApp
        fields = MAIN_FIELDS

    def clean(self):
        data = super().clean()
        stored = self.instance if self.instance.pk else None
        appkey = stored.appkey if stored else data.get("appkey") or ""
        corp_id = stored.corp_id if stored else data.get("corp_id") or ""
        self.secret_values = {
            name: data.get(f"new_{name}") or (getattr(stored, name) if stored else "")
            for name in SECRET_FIELDS
        }
        if stored is None and app_find(app_key=appkey or corp_id) is not None:
            self.add_error("appkey" if appkey else "corp_id",
                           "an internal app is already registered under this key")
        try:
            app_validate(appkey=appkey, corp_id=corp_id, app_name=data.get("app_name") or "",
                         corp_name=data.get("corp_name") or "", agent_id=data.get("agent_id"),
                         callback_trailing_key=data.get("callback_trailing_key"),
                         **self.secret_values)
        except AppInvalid as exc:
            for field, problem in exc.extra["fields"].items():
                target = f"new_{field}" if field in SECRET_FIELDS else field
                self.add_error(target if target in self.fields else None, problem)
        return data


@admin.register(InternalApp)
class InternalAppAdmin(TenantActions, admin.ModelAdmin):
    form = InternalAppAdminForm
    list_display = ["app_key_label", "app_name", "corp_id", "corp_name", "credential",
                    "has_callback", "suspended", "agent_id"]
    list_filter = ["suspended"]
    search_fields = ["appkey", "app_name", "corp_id", "corp_name"]
    status_fields = ["credential", "callback_path", "has_callback", "status", "suspended",
                     "authorized_at", "created_at", "updated_at"]
    actions = ["refresh_token", "refresh_scopes", "suspend", "resume"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=Tenant.Kind.INTERNAL_APP)

    def get_readonly_fields(self, request, obj=None):
        # The appkey (or a corpsecret app's corp id) names the callback URL and the token.
        return [*self.status_fields, "corp_id", "appkey"] if obj else self.status_fields

    def get_fieldsets(self, request, obj=None):
        secrets = [f"new_{name}" for name in SECRET_FIELDS]
        sets = [(None, {"fields": MAIN_FIELDS}), ("Secrets (write-only)", {"fields": secrets})]
        if obj:
            sets.append(("State", {"fields": self.status_fields}))
        return sets

    @admin.display(description="Key", ordering="appkey")
    def app_key_label(self, obj):
        return obj.app_key_label

    @admin.display(description="Credential")
    def credential(self, obj):
        return "appkey + appsecret" if obj.appkey else "legacy corpsecret"

    @admin.display(description="Callback", boolean=True)
    def has_callback(self, obj):
        return bool(obj.callback_token and obj.encoding_aes_key)

    @admin.display(description="Callback URL path")
    def callback_path(self, obj):
        return reverse("tenants:app_callback", kwargs={"app_key": obj.app_key_label})

    def save_model(self, request, obj, form, change):
        tenant = app_register(
            corp_id=obj.corp_id, appkey=obj.appkey, app_name=obj.app_name,
            corp_name=obj.corp_name, agent_id=obj.agent_id,
            callback_trailing_key=obj.callback_trailing_key, **form.secret_values,
        )
        obj.pk = tenant.pk
        obj.refresh_from_db()

    def action_label(self, tenant) -> str:
        return tenant.app_key_label

    @admin.action(description="Refresh scopes from DingTalk", permissions=["change"])
    def refresh_scopes(self, request, queryset):
        self._run(request, queryset, tenant_refresh_scopes, "Refresh scopes")
