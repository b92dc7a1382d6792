"""Admin pages of work notifications: read-only views of notifications, recipients, the ledger.

Nothing here changes a row: notifications are created and moved by the services and tasks.
"""

from django.contrib import admin
from django.utils.html import format_html_join

from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(_ReadOnly):
    list_display = ("id", "tenant", "status", "recipient_count", "outcomes", "created_at",
                    "planned_at", "completed_at")
    list_filter = ("status", "tenant__kind", "to_all_user", "defer_held")
    search_fields = ("=id", "idempotency_key", "tenant__corp_id")
    list_select_related = ("tenant", "tenant__suite")
    date_hierarchy = "created_at"
    readonly_fields = ("outcomes",)

    @admin.display(description="outcomes")
    def outcomes(self, obj: Notification) -> str:
        counts = sorted((obj.counts or {}).items())
        return format_html_join(", ", "{}: {}", counts) or "-"


@admin.register(NotificationBatch)
class NotificationBatchAdmin(_ReadOnly):
    list_display = ("id", "notification", "seq", "status", "task_id", "attempts", "sent_at")
    list_filter = ("status",)
    search_fields = ("=notification__id", "=task_id")
    list_select_related = ("notification",)


@admin.register(Recipient)
class RecipientAdmin(_ReadOnly):
    list_display = ("userid", "notification", "outcome", "code", "batch")
    list_filter = ("outcome",)
    search_fields = ("userid", "=notification__id")
    list_select_related = ("notification", "batch")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnly):
    list_display = ("day", "tenant", "userid", "state", "content_digest")
    list_filter = ("state", "day")
    search_fields = ("userid", "tenant__corp_id")
    list_select_related = ("tenant", "tenant__suite")
