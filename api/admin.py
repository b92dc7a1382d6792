"""Operators' pages for the api app: API keys (created here, the plain key shown once)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from api import admin_webhooks  # noqa: F401  (registers the webhook pages)
from api.errors import ApiKeyInvalid
from api.models import ApiKey
from api.services.keys import api_key_check, api_key_create, api_key_revoke


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "suite", "app", "tenants", "throttle_rate"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            try:
                api_key_check(name=(data.get("name") or "").strip(), suite=data.get("suite"),
                              app=data.get("app"), tenants=list(data.get("tenants") or ()),
                              throttle_rate=data.get("throttle_rate") or "")
            except ApiKeyInvalid as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "owner", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["suite", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    filter_horizontal = ["tenants"]
    actions = ["revoke"]

    @admin.display(description="owner")
    def owner(self, obj: ApiKey) -> str:
        return obj.owner_label

    def get_readonly_fields(self, request, obj=None):
        # A key's owner and reach are fixed once it exists: make a new key instead.
        if obj is not None:
            return [*self.readonly_fields, "suite", "app", "tenants"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = api_key_create(name=data["name"], suite=data.get("suite"),
                                 app=data.get("app"), tenants=list(data.get("tenants") or ()),
                                 throttle_rate=data.get("throttle_rate") or "")
        obj.pk, obj.prefix, obj.key_hash = (created.api_key.pk, created.api_key.prefix,
                                            created.api_key.key_hash)
        obj.created_at = created.api_key.created_at
        messages.warning(request, f"Copy this API key now; it is not shown again: "
                                  f"{created.plaintext}")

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On creation api_key_create has set the tenants already.

    @admin.action(description="Revoke the selected keys (requests with them get 401)")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
        self.message_user(request, "Revoked.")
