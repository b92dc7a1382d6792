"""Django admin for the directory mirror: each tenant's sync (status, generation, counts, calls,
drift, error) with a "sync now" action, and read-only lists of the mirrored departments and
users, filterable by tenant."""

from django.contrib import admin

from directory.models import Department, DirectorySync, User
from directory.services.sync import sync_request
from tenants.admin_tenants import run_for_each


class ReadOnlyAdmin(admin.ModelAdmin):
    """The mirror is DingTalk's data: only a sync changes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DirectorySync)
class DirectorySyncAdmin(admin.ModelAdmin):
    list_display = ["tenant", "status", "reason", "generation", "last_success_at",
                    "department_count", "user_count", "calls", "drift_summary", "attempts",
                    "next_attempt_at", "error_summary"]
    list_filter = ["status"]
    search_fields = ["tenant__corp_id", "tenant__corp_name"]
    list_select_related = ["tenant", "tenant__suite"]
    actions = ["sync_now"]
    readonly_fields = [f.name for f in DirectorySync._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="drift (last sync)")
    def drift_summary(self, obj):
        drift = obj.drift or {}
        return ", ".join(f"{k} {v}" for k, v in drift.items()) or "-"

    @admin.display(description="error")
    def error_summary(self, obj):
        return (obj.error[:80] + "...") if len(obj.error) > 80 else obj.error

    @admin.action(description="Sync now (a full sync, coalesced with one already queued)",
                  permissions=["change"])
    def sync_now(self, request, queryset):
        run_for_each(self, request, queryset.select_related("tenant"),
                     lambda sync: sync_request(tenant=sync.tenant, reason="admin"),
                     "Sync now", lambda sync: sync.tenant.corp_id)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["dept_id", "name", "parent_id", "order", "tenant", "generation",
                    "deleted_at", "updated_at"]
    list_filter = ["tenant", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=dept_id"]
    list_select_related = ["tenant", "tenant__suite"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["userid", "name", "title", "active", "is_admin", "tenant", "generation",
                    "deleted_at", "updated_at"]
    list_filter = ["tenant", "active", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=userid", "=unionid"]
    list_select_related = ["tenant", "tenant__suite"]
