"""The operators' limiter usage page in the admin: per suite and internal app, each rule's units
used of its limit now and when its oldest admission frees (messaging.limiter.usage: a read,
nothing taken). Registered on admin.site through the LimiterUsage proxy, whose only page this is.

Rules shown, as sends take them (messaging/limiter/rules.py): the egress budget; per suite its
suite-wide rule (143204) and its (suite, corp) rule per authorized corp (143203); per internal
app its (app, corp) rule (143103) and its corp's rule across internal apps (143104); each shared
budget with its smoothing twin (the same rate over a few seconds). A suite's corps and the
internal apps are capped at TENANTS_SHOWN, the most recently created, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path

from messaging.admin_readonly import ReadOnlyAdmin
from messaging.limiter import LimiterUnavailable, Rule, RuleUsage, limiter, usage
from messaging.limiter.models import LimiterUsage
from messaging.limiter.rules import (
    app_corp_recipients_rule,
    corp_recipients_rule,
    egress_rule,
    smooth_rule,
    suite_recipients_rule,
)
from tenants.models import Suite, Tenant

TENANTS_SHOWN = 50


@dataclass
class UsageRow:
    label: str
    rule: Rule
    usage: RuleUsage | None = None  # None: the limiter did not answer

    @property
    def used(self) -> str:
        return "unavailable" if self.usage is None else f"{self.usage.used:,} / {self.rule.limit:,}"

    @property
    def frees_in(self) -> str:
        if self.usage is None:
            return "unavailable"
        seconds = self.usage.frees_in_s
        return "-" if seconds is None else f"{seconds:,.1f} s"

    @property
    def full(self) -> bool:
        return self.usage is not None and self.usage.used >= self.rule.limit


@dataclass
class UsageSection:
    title: str
    rows: list[UsageRow] = field(default_factory=list)
    note: str = ""


def _capped_note(shown: int, total: int, what: str) -> str:
    if total <= shown:
        return ""
    return f"Showing the {shown} most recently created of {total:,} {what}."


def _shared(label: str, rule: Rule) -> list[UsageRow]:
    """A budget tenants share, and its twin spreading it over a few seconds if sends take one."""
    rows = [UsageRow(label, rule)]
    smooth = smooth_rule(rule, unit=int(settings.MESSAGING_BATCH_SIZE))
    if smooth is not None:
        rows.append(UsageRow(f"{label}, spread over {smooth.window_seconds:.1f} s", smooth))
    return rows


def _suite_section(suite: Suite) -> UsageSection:
    section = UsageSection(f"Suite {suite} ({suite.suite_key})")
    section.rows.extend(_shared("Suite-wide recipients per minute (143204)",
                                suite_recipients_rule(suite_key=suite.suite_key)))
    corps = list(suite.tenants.filter(kind=Tenant.Kind.SUITE).order_by("-created_at", "-pk")
                 .values_list("corp_id", "corp_name")[:TENANTS_SHOWN])
    for corp_id, corp_name in corps:
        section.rows.append(UsageRow(
            f"{corp_name or corp_id}: recipients per minute (143203)",
            app_corp_recipients_rule(app_key=suite.suite_key, corp_id=corp_id)))
    section.note = _capped_note(len(corps), suite.corp_count, "authorized corps")
    return section


def _internal_apps_section() -> UsageSection:
    section = UsageSection("Internal apps")
    apps = Tenant.objects.filter(kind=Tenant.Kind.INTERNAL_APP)
    shown = list(apps.order_by("-created_at", "-pk")[:TENANTS_SHOWN])
    for app in shown:
        name = app.app_name or app.app_key_label
        section.rows.append(UsageRow(
            f"{name} in {app.corp_name or app.corp_id}: recipients per minute (143103)",
            app_corp_recipients_rule(app_key=app.app_key_label, corp_id=app.corp_id)))
        corp_rule = corp_recipients_rule(corp_id=app.corp_id)
        if corp_rule.limit > 0:  # 0 turns the corp-wide rule off (rules.notice_send_rules)
            section.rows.extend(_shared(
                f"{app.corp_name or app.corp_id}: all its internal apps' recipients per "
                f"minute (143104)", corp_rule))
    section.note = _capped_note(len(shown), apps.count(), "internal apps")
    return section


def usage_sections() -> tuple[list[UsageSection], str | None]:
    """Every section of the page with its figures, and why they are missing (or None)."""
    sections = [UsageSection("Egress IP", [UsageRow("Every DingTalk call (PROTOCOL 10)",
                                                    egress_rule())])]
    suites = Suite.objects.annotate(
        corp_count=Count("tenants", filter=Q(tenants__kind=Tenant.Kind.SUITE))).order_by(
        "suite_key")
    sections.extend(_suite_section(suite) for suite in suites)
    sections.append(_internal_apps_section())
    rows = [row for section in sections for row in section.rows]
    try:
        figures = usage([row.rule for row in rows])
    except LimiterUnavailable as exc:
        return sections, str(exc)
    for row, figure in zip(rows, figures, strict=True):
        row.usage = figure
    return sections, None


@admin.register(LimiterUsage)
class LimiterUsageAdmin(ReadOnlyAdmin):
    """One read-only page: the list view is the usage report; no object pages."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.changelist_view), name=name)]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sections, unavailable = usage_sections()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Limiter usage",
            "backend": type(limiter()).__name__,
            "sections": sections,
            "unavailable": unavailable,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/messaging/limiter_usage.html", context)
