"""Admin for the data lifecycle: the tenant page's lifecycle state and its two actions (export,
delete on the customer's request behind a confirmation page), and the read-only audit rows."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.timesince import timeuntil

from core import clock
from tenants.models import Tenant, TenantDeletion
from tenants.services.lifecycle import tenant_data_delete
from tenants.services.lifecycle_export import export_path_for, tenant_export_write

DataStatus = Tenant.DataStatus
LIFECYCLE_FIELDS = ["data_lifecycle", "data_exported_at", "data_export_path",
                    "data_deleted_at"]


def _export(*, tenant: Tenant) -> None:
    tenant_export_write(tenant=tenant, path=export_path_for(tenant=tenant))


class TenantDataActions:
    """The tenant admin's lifecycle display and actions (mixed into TenantAdmin, whose `_run`
    reports each tenant's success or refusal)."""

    @admin.display(description="Customer data")
    def data_lifecycle(self, obj):
        label = DataStatus(obj.data_status).label
        if obj.data_status == DataStatus.SCHEDULED and obj.data_delete_after:
            when = obj.data_delete_after
            left = f"in {timeuntil(when, clock.now())}" if when > clock.now() else "overdue"
            return f"{label} [deleted after {when:%Y-%m-%d %H:%M} UTC, {left}]"
        if obj.data_status == DataStatus.DELETED and obj.data_deleted_at:
            return f"{label} [at {obj.data_deleted_at:%Y-%m-%d %H:%M} UTC]"
        return label

    @admin.action(description="Export data (a JSON file in TENANTS_EXPORT_DIR)",
                  permissions=["change"])
    def export_data(self, request, queryset):
        self._run(request, queryset, _export, "Export data")

    @admin.action(description="Delete data now (customer's request)", permissions=["change"])
    def delete_data(self, request, queryset):
        if request.POST.get("confirmed") == "yes":
            delete = partial(tenant_data_delete, reason=TenantDeletion.Reason.CUSTOMER_REQUEST,
                             operator=request.user.get_username())
            self._run(request, queryset, delete, "Delete data")
            return None
        tenants = list(queryset.select_related("suite"))
        return TemplateResponse(request, "admin/tenants/tenant/delete_data_confirmation.html", {
            **self.admin_site.each_context(request),
            "title": "Delete these tenants' data?", "opts": self.model._meta,
            "tenants": tenants, "relieved": Tenant.Status.RELIEVED,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })


@admin.register(TenantDeletion)
class TenantDeletionAdmin(admin.ModelAdmin):
    """The audit of deletions: read-only, never deleted from here."""

    list_display = ["corp_id", "suite_key", "tenant_name", "reason", "operator", "deleted_at",
                    "rows_deleted"]
    list_filter = ["reason", "suite_key"]
    search_fields = ["corp_id", "tenant_name"]
    fields = ["corp_id", "suite_key", "tenant", "tenant_name", "authorized_at", "relieved_at",
              "deleted_at", "reason", "operator", "counts", "export_path", "export_sha256"]
    readonly_fields = fields

    @admin.display(description="Rows deleted")
    def rows_deleted(self, obj):
        return sum(obj.counts.values()) if isinstance(obj.counts, dict) else "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
