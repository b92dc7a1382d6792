"""Admin pages of work notifications: notifications with their progress and the operators'
actions (recall, resend to the failed), batches, recipients, the ledger.

Rows are read-only: notifications are created and moved by the services and tasks. The two
actions call services (services/recall.py, services/resend.py) one notification at a time and
report each one's result or refusal as a message, never a stack trace. Filters by tenant or
notification take a typed value instead of listing every tenant (there are thousands).
"""

import logging

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.errors import ServiceError
from messaging.admin_readonly import ReadOnlyAdmin
from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient
from messaging.services.recall import notification_recall
from messaging.services.resend import notification_resend_failed

logger = logging.getLogger("messaging.admin")

Outcome = Recipient.Outcome
# Outcomes that may still change while the notification is open.
_OPEN_OUTCOMES = (Outcome.PENDING, Outcome.SENT, Outcome.UNKNOWN)
# Each selected notification is a synchronous round of DingTalk calls: keep a request short.
MAX_PER_ACTION = 20



class _InputFilter(admin.SimpleListFilter):
    """A filter with one typed, exact value: nothing to load, however many values exist."""

    template = "admin/messaging/input_filter.html"
    lookup = ""  # the queryset lookup the value goes to
    numeric = False

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if self.numeric and not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.lookup: value})

    def choices(self, changelist):
        keep = [(name, value) for name, values in changelist.filter_params.items()
                if name != self.parameter_name for value in values]
        yield {"parameter": self.parameter_name, "value": self.value() or "", "hidden": keep,
               "clear": changelist.get_query_string(remove=[self.parameter_name])}


class CorpFilter(_InputFilter):
    title = "corp id"
    parameter_name = "corp_id"
    lookup = "tenant__corp_id"


class NotificationFilter(_InputFilter):
    title = "notification id"
    parameter_name = "notification"
    lookup = "notification_id"
    numeric = True


class CodeFilter(admin.SimpleListFilter):
    """DingTalk's forbidden codes (PROTOCOL 3.3) and dingsuite's held-back reasons."""

    title = "code"
    parameter_name = "code"
    CODES = (
        ("143103", "143103 app per-minute"), ("143104", "143104 corp per-minute"),
        ("143105", "143105 daily cap"), ("143106", "143106 identical content"),
        ("143203", "143203 ISV app per-minute"), ("143204", "143204 ISV suite per-minute"),
        ("143205", "143205 ISV daily cap"), ("143206", "143206 ISV identical content"),
        ("1430002", "1430002 prohibited content"), ("1430003", "1430003 system protection"),
        ("1430004", "1430004 executive protection"),
        ("daily_cap", "daily_cap (held back)"),
        ("identical_content", "identical_content (held back)"),
    )

    def lookups(self, request, model_admin):
        return self.CODES

    def queryset(self, request, queryset):
        return queryset.filter(code=self.value()) if self.value() else queryset


def _changelist(model: str, **params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return reverse(f"admin:messaging_{model}_changelist") + (f"?{query}" if query else "")


def _run(modeladmin, request, queryset, call, done_message) -> None:
    """call(notification) for each selected one (at most MAX_PER_ACTION), one message each."""
    selected = list(queryset.order_by("pk")[:MAX_PER_ACTION + 1])
    if len(selected) > MAX_PER_ACTION:
        modeladmin.message_user(request, f"Only the first {MAX_PER_ACTION} selected "
                                "notifications were handled; select fewer for the rest.",
                                messages.WARNING)
    for n in selected[:MAX_PER_ACTION]:
        try:
            result = call(n)
        except ServiceError as exc:
            modeladmin.message_user(request, f"Notification {n.pk}: {exc.message} ({exc.code})",
                                    messages.ERROR)
        except Exception as exc:  # shown to the operator instead of a 500; the log has it all
            logger.exception("admin action on notification %s failed", n.pk)
            modeladmin.message_user(request, f"Notification {n.pk}: failed unexpectedly "
                                    f"({type(exc).__name__}); see the server log.",
                                    messages.ERROR)
        else:
            modeladmin.message_user(request, done_message(n, result), messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "status", "progress", "recipient_count", "outcomes",
                    "created_at", "completed_at")
    list_filter = ("status", CorpFilter, "tenant__kind", "to_all_user", "defer_held")
    search_fields = ("=id", "idempotency_key", "tenant__corp_id")
    list_select_related = ("tenant", "tenant__suite")
    date_hierarchy = "created_at"
    fields = ("tenant", "status", "progress", "outcomes", "links", "recipient_count",
              "audience", "idempotency_key", "msg", "template_id", "template_data",
              "defer_held", "dept_errors", "plan_attempts", "next_attempt_at", "last_error",
              "created_at", "planned_at", "completed_at")
    readonly_fields = ("progress", "outcomes", "links", "audience", "created_at")
    actions = ("recall", "resend_failed")

    def has_operate_permission(self, request):
        # The rows stay read-only; acting on a notification is what changing it means.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description="progress")
    def progress(self, obj: Notification):
        counts = obj.counts or {}
        total = sum(counts.values())
        if not total:
            return "-"
        still = 0 if obj.status in Notification.FINAL else sum(
            counts.get(o, 0) for o in _OPEN_OUTCOMES)
        settled = total - still
        return format_html(
            '<progress value="{}" max="{}" title="{} of {} recipients have a final outcome">'
            "</progress> {}%", settled, total, settled, total, settled * 100 // total)

    @admin.display(description="outcomes")
    def outcomes(self, obj: Notification):
        counts = sorted((obj.counts or {}).items())
        rows = ((_changelist("recipient", notification=obj.pk, outcome__exact=outcome),
                 outcome, n) for outcome, n in counts)
        return format_html_join(", ", '<a href="{}">{}: {}</a>', rows) or "-"

    @admin.display(description="see")
    def links(self, obj: Notification):
        return format_html('<a href="{}">its recipients</a> · <a href="{}">its batches</a>',
                           _changelist("recipient", notification=obj.pk),
                           _changelist("notificationbatch", notification=obj.pk))

    @admin.display(description="audience as asked")
    def audience(self, obj: Notification):
        # A notification may name 100,000 userids: the page shows how many and the first few.
        users, depts = obj.userids or [], obj.dept_ids or []
        shown = ", ".join(users[:10]) + (" …" if len(users) > 10 else "")
        parts = [f"{len(users)} userids" + (f" ({shown})" if users else ""),
                 f"{len(depts)} departments" + (f" ({', '.join(map(str, depts[:10]))})"
                                                if depts else "")]
        if obj.to_all_user:
            parts.append("to_all_user" + (" (DingTalk's own)" if obj.to_all_user_native else ""))
        return "; ".join(parts)

    @admin.action(description="Recall (cancel what is unsent, withdraw what DingTalk has)",
                  permissions=["operate"])
    def recall(self, request, queryset):
        _run(self, request, queryset,
             lambda n: notification_recall(notification_id=n.pk),
             lambda n, done: f"Notification {n.pk}: recalled "
                             f"({done.counts.get(Outcome.RECALLED, 0)} recipients)."
                             + (f" {done.last_error}" if done.last_error else ""))

    @admin.action(description="Resend to the failed recipients (one new notification)",
                  permissions=["operate"])
    def resend_failed(self, request, queryset):
        _run(self, request, queryset,
             lambda n: notification_resend_failed(notification_id=n.pk),
             lambda n, resend: format_html(
                 'Notification {}: {} failed recipient(s) resent as <a href="{}">notification '
                 "{}</a> ({}).", n.pk, len(resend.userids),
                 reverse("admin:messaging_notification_change", args=[resend.pk]), resend.pk,
                 resend.status))


@admin.register(NotificationBatch)
class NotificationBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "notification", "seq", "status", "task_id", "attempts", "sent_at",
                    "last_error")
    list_filter = ("status", NotificationFilter)
    search_fields = ("=notification__id", "=task_id")
    list_select_related = ("notification",)
    show_full_result_count = False


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ("userid", "notification", "outcome", "code", "batch")
    list_filter = ("outcome", CodeFilter, NotificationFilter)
    search_fields = ("userid", "=notification__id", "=code")
    list_select_related = ("notification", "batch")
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("day", "tenant", "userid", "state", "content_digest")
    list_filter = ("state", "day", CorpFilter)
    search_fields = ("userid", "tenant__corp_id")
    list_select_related = ("tenant", "tenant__suite")
    show_full_result_count = False


from messaging import admin_limiter  # noqa: E402,F401  (the limiter's state page registers itself)
