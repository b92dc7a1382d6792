"""Django admin of the commerce ledger: who pays, until when and who is on a trial (the
entitlement list), each tenant's order history, the orders themselves (read-only), and the
operator actions: import an order by id (a push that never came), verify again, recompute."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from commerce.models import (
    Entitlement,
    InAppConsumption,
    InAppOrder,
    MarketOrder,
    MarketRefund,
    MemberOpen,
)
from commerce.services.entitlements import entitlement_recompute
from commerce.services.inapp import in_app_order_finish_retry
from commerce.services.orders import ORDER_ID_PATTERN, market_order_import
from tenants.admin_tenants import run_for_each
from tenants.models import Suite

logger = logging.getLogger("commerce.admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only DingTalk's pushes and the services write."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ImportOrderForm(forms.Form):
    suite = forms.ModelChoiceField(queryset=Suite.objects.all())
    order_id = forms.RegexField(ORDER_ID_PATTERN, max_length=64,
                                help_text="DingTalk's order id (digits, as in the order list "
                                          "of the developer console)")


@admin.register(MarketOrder)
class MarketOrderAdmin(ReadOnlyAdmin):
    change_list_template = "admin/commerce/marketorder/change_list.html"
    list_display = ["order_id", "suite", "corp_id", "tenant", "status", "order_type",
                    "charge_type", "item_code", "pay_fee", "service_stop_at", "in_app",
                    "source", "created_at"]
    list_filter = ["suite", "status", "order_type", "charge_type", "in_app", "source"]
    search_fields = ["order_id", "corp_id", "item_code"]
    list_select_related = ["suite", "tenant"]
    readonly_fields = [f.name for f in MarketOrder._meta.fields]
    actions = ["verify_again"]

    @admin.action(description="Verify again with DingTalk (unverified or refused orders)",
                  permissions=["view"])
    def verify_again(self, request, queryset):
        run_for_each(self, request, queryset.select_related("suite"),
                     lambda o: market_order_import(suite=o.suite, order_id=o.order_id),
                     "Verify", lambda o: o.order_id)

    def get_urls(self):
        own = [path("import/", self.admin_site.admin_view(self.import_view),
                    name="commerce_marketorder_import")]
        return own + super().get_urls()

    def import_view(self, request):
        """Import one order by its id: for a push that never came (DingTalk has no order list
        for ordinary orders)."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        form = ImportOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            suite, order_id = form.cleaned_data["suite"], form.cleaned_data["order_id"]
            try:
                order = market_order_import(suite=suite, order_id=order_id)
            except Exception as exc:  # shown to the operator instead of a 500
                logger.warning("import of order %r failed: %s", order_id, type(exc).__name__)
                message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                self.message_user(request, f"Order {order_id} not imported: {message}",
                                  messages.ERROR)
            else:
                self.message_user(request, f"Order {order_id}: {order.get_status_display()}",
                                  messages.SUCCESS)
                return redirect(reverse("admin:commerce_marketorder_change", args=[order.pk]))
        context = {**self.admin_site.each_context(request), "form": form,
                   "opts": self.model._meta, "title": "Import an order by id"}
        return TemplateResponse(request, "admin/commerce/marketorder/import.html", context)


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    """Who pays, until when, who is on a trial."""

    list_display = ["tenant", "kind", "expired", "item_name", "item_code", "seats",
                    "active_until", "enterprise_tryout", "changed_at"]
    list_filter = ["kind", "expired", "tenant__suite", "enterprise_tryout"]
    search_fields = ["tenant__corp_id", "tenant__corp_name", "item_code"]
    list_select_related = ["tenant", "tenant__suite"]
    ordering = ["expired", "active_until"]
    readonly_fields = [*[f.name for f in Entitlement._meta.fields], "order_history"]
    actions = ["recompute"]

    @admin.display(description="seats")
    def seats(self, obj: Entitlement) -> str:
        if obj.quantity and not obj.max_of_people:
            return str(obj.quantity)
        if obj.max_of_people:
            return f"{obj.min_of_people or 0}-{obj.max_of_people}"
        return "-"

    @admin.display(description="orders")
    def order_history(self, obj: Entitlement) -> str:
        rows = MarketOrder.objects.filter(tenant_id=obj.tenant_id).order_by("-id")[:100]
        body = format_html_join("", "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td>"
                                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (reverse("admin:commerce_marketorder_change", args=[o.pk]), o.order_id,
             o.status, o.order_type or "-", o.item_code, o.pay_fee,
             o.service_start_at, o.service_stop_at) for o in rows))
        return format_html("<table><tr><th>order</th><th>status</th><th>type</th><th>item</th>"
                           "<th>fee (fen)</th><th>start</th><th>stop</th></tr>{}</table>", body)

    @admin.action(description="Recompute from the orders", permissions=["view"])
    def recompute(self, request, queryset):
        run_for_each(self, request, queryset.select_related("tenant"),
                     lambda e: entitlement_recompute(tenant=e.tenant), "Recompute",
                     lambda e: e.tenant.corp_id)


@admin.register(MarketRefund)
class MarketRefundAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "suite", "corp_id", "refund_id", "refund_fee",
                    "via_service_close", "via_refund_event", "created_at"]
    list_filter = ["suite", "via_service_close", "via_refund_event"]
    search_fields = ["order_id", "corp_id"]


@admin.register(MemberOpen)
class MemberOpenAdmin(ReadOnlyAdmin):
    list_display = ["corp_id", "suite", "tryout_type", "item_type", "from_date", "end_date"]
    list_filter = ["suite", "tryout_type"]
    search_fields = ["corp_id"]
    exclude = ["buyer_unionid", "userid"]


class ConsumptionInline(admin.TabularInline):
    model = InAppConsumption
    fields = ["request_id", "quantity", "status", "last_error", "done_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(InAppOrder)
class InAppOrderAdmin(ReadOnlyAdmin):
    list_display = ["order", "tenant", "status", "finish_attempts", "next_attempt_at",
                    "finish_errcode", "finish_errmsg", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in InAppOrder._meta.fields]
    inlines = [ConsumptionInline]
    actions = ["retry_finish"]

    @admin.action(description="Retry finish at DingTalk (orders whose finish it refused)",
                  permissions=["view"])
    def retry_finish(self, request, queryset):
        refused = queryset.filter(status=InAppOrder.Status.FINISH_REFUSED)
        run_for_each(self, request, refused.select_related("order"),
                     lambda row: _finish_retried(in_app_order_finish_retry(in_app_order=row)),
                     "Retry finish", lambda row: row.order.order_id)


def _finish_retried(row: InAppOrder) -> None:
    # run_for_each reports what raises: a finish refused again, or left for the sweep.
    if row.status == InAppOrder.Status.FINISH_REFUSED:
        raise RuntimeError(f"DingTalk refused again: {row.finish_errcode} {row.finish_errmsg}")
    if row.status == InAppOrder.Status.CONFIRMED:
        raise RuntimeError("DingTalk did not answer: the sweep retries it")
