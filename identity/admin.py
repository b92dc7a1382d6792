"""Django admin for identity: admin-console SSO credentials (the SSO secret write-only), the
assertions they issued and the tenant users SSO has seen (both read-only)."""

from django import forms
from django.contrib import admin
from django.core.validators import URLValidator

from identity.models import AdminSsoAssertion, AdminSsoCredential, TenantUser
from tenants.admin_tenants import secret_field


class AdminSsoCredentialForm(forms.ModelForm):
    new_sso_secret = secret_field("SSO secret (dev console: 基本信息 -> 开发信息（旧版）)")
    landing_url = forms.URLField(max_length=2000, assume_scheme="https",
                                 validators=[URLValidator(schemes=["http", "https"])],
                                 help_text=AdminSsoCredential._meta.get_field(
                                     "landing_url").help_text)

    class Meta:
        model = AdminSsoCredential
        fields = ["corp_id", "name", "landing_url", "suites", "enabled"]

    def clean(self):
        data = super().clean()
        secret = data.get("new_sso_secret") or ""
        if not self.instance.pk and not secret:
            self.add_error("new_sso_secret", "the SSO secret is required")
        if "\x00" in secret or len(secret) > 256:
            self.add_error("new_sso_secret", "at most 256 characters, without NUL")
        return data

    def save(self, commit=True):
        # Blank keeps the stored (encrypted) secret; the form never renders it back.
        if self.cleaned_data.get("new_sso_secret"):
            self.instance.sso_secret = self.cleaned_data["new_sso_secret"]
        return super().save(commit=commit)


@admin.register(AdminSsoCredential)
class AdminSsoCredentialAdmin(admin.ModelAdmin):
    form = AdminSsoCredentialForm
    list_display = ["corp_id", "name", "landing_url", "suite_count", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["corp_id", "name"]
    filter_horizontal = ["suites"]
    fieldsets = [
        (None, {"fields": ["corp_id", "name", "landing_url", "suites", "enabled"]}),
        ("Secret (write-only)", {"fields": ["new_sso_secret"]}),
    ]

    @admin.display(description="Suites")
    def suite_count(self, obj):
        return obj.suites.count()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AdminSsoAssertion)
class AdminSsoAssertionAdmin(ReadOnlyAdmin):
    list_display = ["userid", "name", "corp_id", "corp_name", "is_sys", "credential",
                    "issued_at", "expires_at", "redeemed_at", "redeemed_by"]
    list_filter = ["credential", "is_sys"]
    search_fields = ["userid", "name", "corp_id", "corp_name"]
    # The digest is of no use to a reader.
    exclude = ["digest"]
    list_select_related = ["credential", "redeemed_by"]


@admin.register(TenantUser)
class TenantUserAdmin(ReadOnlyAdmin):
    list_display = ["userid", "name", "unionid", "tenant", "is_admin", "sys_level",
                    "first_seen_at", "last_seen_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter), "is_admin"]
    search_fields = ["userid", "unionid", "name", "tenant__corp_id"]
    list_select_related = ["tenant"]
