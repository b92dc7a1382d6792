"""A tenant's monthly budget of non-basic DingTalk calls (PROTOCOL 10, errcode 90020).

Internal apps of standard-edition orgs may make 5,000 calls a month to non-basic APIs (tokens,
login and the contacts APIs are basic and free); past it DingTalk answers 90020 until the month
ends. dingsuite counts each tenant's non-basic calls per month (MonthlyCallCount) in the
client's call gate, before the request leaves, and refuses the call that would pass the budget
(CallBudgetSpent, never retried). When DingTalk answers 90020 anyway (other software spends the
same org's quota), call_budget_exhausted records it and no further call is made that month.
Polling reads call_budget_left to spend less as the budget runs down.

The budget: Tenant.monthly_call_budget, else TENANTS_MONTHLY_CALL_BUDGET for internal apps and
none for suite tenants; 0 means none. Months are calendar months in TENANTS_CALL_BUDGET_TZ.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from core import clock
from core.cache import ProcessCache
from tenants.errors import CallBudgetSpent
from tenants.models import MonthlyCallCount, Tenant

logger = logging.getLogger("tenants.call_budget")

# Basic APIs (PROTOCOL 10: "token, login, contacts APIs excluded"): not counted.
BASIC_PREFIXES = (
    "gettoken", "service/", "sns/", "auth/", "user/", "department/", "topapi/user/",
    "topapi/v2/user/", "topapi/department/", "topapi/v2/department/",
)

_budgets: ProcessCache[int] = ProcessCache(max_age=30.0)
# The count this process last took per tenant: (month, calls, monotonic time). A poll takes a
# call and then asks how much is left; the count its own call returned answers that, fresh
# for this long, instead of reading the row again.
_SEEN_FOR_S = 2.0
_seen: dict[int, tuple[date, int, float]] = {}
_TAKE_SQL = """
UPDATE {table} SET calls = calls + 1
WHERE tenant_id = %s AND month = %s AND calls < %s AND exhausted_at IS NULL
RETURNING calls
"""


def is_basic(path: str) -> bool:
    return path.lstrip("/").startswith(BASIC_PREFIXES)


def call_budget_for(*, tenant: Tenant) -> int:
    """The tenant's monthly budget; 0 for none."""
    if tenant.monthly_call_budget is not None:
        return tenant.monthly_call_budget
    if tenant.kind == Tenant.Kind.INTERNAL_APP:
        return settings.TENANTS_MONTHLY_CALL_BUDGET
    return 0


def current_month() -> date:
    local = clock.now().astimezone(ZoneInfo(settings.TENANTS_CALL_BUDGET_TZ))
    return local.date().replace(day=1)


def _budget(tenant_id: int) -> int:
    def load() -> int:
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        return call_budget_for(tenant=tenant) if tenant is not None else 0

    return _budgets.get_or_load(str(tenant_id), load)[0]


def call_budget_take(*, tenant_id: int, path: str) -> None:
    """Count one call of the tenant's to `path`, or raise CallBudgetSpent (nothing counted)."""
    if is_basic(path):
        return
    budget = _budget(tenant_id)
    if not budget:
        return
    month = current_month()
    calls = _take(tenant_id, month, budget)
    if calls is None and not MonthlyCallCount.objects.filter(
            tenant_id=tenant_id, month=month).exists():
        try:
            with transaction.atomic():
                MonthlyCallCount.objects.create(tenant_id=tenant_id, month=month, calls=1)
            calls = 1
        except IntegrityError:
            pass
    if calls is None:
        # Another thread or process created the month's row between our update and now: count
        # on it (a miss here would refuse a call with the budget untouched).
        calls = _take(tenant_id, month, budget)
    if calls is None:
        _seen.pop(tenant_id, None)
        raise CallBudgetSpent(f"the tenant's monthly call budget ({budget}) is spent until "
                              f"the next month", path=path)
    _seen[tenant_id] = (month, calls, time.monotonic())


def _take(tenant_id: int, month: date, budget: int) -> int | None:
    """One call counted on the month's row if it has room: the count after it, else None."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL.format(table=MonthlyCallCount._meta.db_table),
                       [tenant_id, month, budget])
        row = cursor.fetchone()
    return None if row is None else row[0]


def call_budget_gate(tenant_id: int) -> Callable[[str, str], None]:
    """The client's call gate for one tenant (AuthedCaller.gate)."""
    def gate(method: str, path: str) -> None:
        call_budget_take(tenant_id=tenant_id, path=path)

    return gate


def call_budget_exhausted(*, tenant: Tenant, detail: str = "") -> None:
    """DingTalk answered 90020: no call of this tenant's until the month ends (operators see
    it on the tenant's page and in the log)."""
    month = current_month()
    _seen.pop(tenant.pk, None)
    row, _ = MonthlyCallCount.objects.get_or_create(tenant=tenant, month=month)
    if row.exhausted_at is None:
        MonthlyCallCount.objects.filter(pk=row.pk).update(exhausted_at=clock.now())
        logger.error("tenant %s: DingTalk says its monthly call quota is spent (90020)%s; "
                     "no call until %s", tenant.corp_id, f": {detail}" if detail else "",
                     _next_month(month))


def call_budget_left(*, tenant: Tenant) -> float | None:
    """The share of this month's budget left (0..1); None without a budget."""
    budget = call_budget_for(tenant=tenant)
    if not budget:
        return None
    month = current_month()
    seen = _seen.get(tenant.pk)
    if seen is not None and seen[0] == month and time.monotonic() - seen[2] < _SEEN_FOR_S:
        return max(0.0, 1.0 - seen[1] / budget)
    row = MonthlyCallCount.objects.filter(tenant=tenant, month=month).first()
    if row is None:
        return 1.0
    if row.exhausted_at is not None:
        return 0.0
    return max(0.0, 1.0 - row.calls / budget)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def call_budget_summary(*, tenant: Tenant) -> str:
    """This month's count for operators: "812 of 5000", "no budget", "spent (DingTalk 90020)"."""
    budget = call_budget_for(tenant=tenant)
    row = MonthlyCallCount.objects.filter(tenant=tenant, month=current_month()).first()
    calls = row.calls if row else 0
    if row is not None and row.exhausted_at is not None:
        return f"{calls} counted; DingTalk said 90020 at {row.exhausted_at:%Y-%m-%d %H:%M} UTC"
    return f"{calls} of {budget}" if budget else f"{calls} (no budget)"


def tenant_call_budget_set(*, tenant: Tenant, budget: int | None) -> None:
    """An operator's budget for the tenant (None: the default; 0: none)."""
    Tenant.objects.filter(pk=tenant.pk).update(monthly_call_budget=budget)
    _budgets.forget(str(tenant.pk))
