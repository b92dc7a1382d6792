"""Settings of the commerce area (imported by config/settings/base.py)."""

import os

from celery.schedules import crontab

# Check every pushed order with GET /v1.0/appMarket/orders/{id} (suite token, permission
# Market.Order.Read) before it grants anything. Off only for a suite without that permission.
COMMERCE_VERIFY_ORDERS = os.environ.get("COMMERCE_VERIFY_ORDERS", "true").lower() != "false"
# DingTalk's order statuses that count as paid: 3 per the enum; its doc example shows 1, which
# the enum lacks (PROTOCOL-ISV 3.3, UNCERTAIN): add it here if real answers say 1.
COMMERCE_PAID_STATUSES = [int(value) for value in
                          os.environ.get("COMMERCE_PAID_STATUSES", "3").split(",") if value]
# A 0-fen order with a period at least this long is the free spec ("100 years"), shorter a trial
# (SyncHTTP rows do not say FREE / TRYOUT; the HTTP push does).
COMMERCE_FREE_SPEC_MIN_DAYS = int(os.environ.get("COMMERCE_FREE_SPEC_MIN_DAYS", "3650"))
# biz_type 63 fromDate / endDate are wall-clock text in this zone (UNCERTAIN, PROTOCOL-ISV 3.2).
COMMERCE_TRYOUT_TZ = os.environ.get("COMMERCE_TRYOUT_TZ", "Asia/Shanghai")
# internal/order/finish retries: exponential from the base, capped (seconds); lease per attempt.
COMMERCE_FINISH_RETRY_BASE_S = float(os.environ.get("COMMERCE_FINISH_RETRY_BASE_S", "30"))
COMMERCE_FINISH_RETRY_MAX_S = float(os.environ.get("COMMERCE_FINISH_RETRY_MAX_S", "3600"))
COMMERCE_CALL_LEASE_S = float(os.environ.get("COMMERCE_CALL_LEASE_S", "60"))
# A renew-change (RENEW_UPGRADE / RENEW_DEGRADE) whose 37 market_service_open has not come this
# long after its service start is re-verified with DingTalk and applied by the sweep (a lost
# push must not leave it pending forever).
COMMERCE_RENEW_CHANGE_GRACE_S = float(os.environ.get("COMMERCE_RENEW_CHANGE_GRACE_S", "86400"))
# The daily in-app reconciliation (unfinishedorder/list per tenant) can be switched off for a
# suite with no in-app goods.
COMMERCE_RECONCILE_INAPP = os.environ.get("COMMERCE_RECONCILE_INAPP", "true").lower() != "false"
# Its pages (at most 100 orders each, DingTalk's cap) and how many pages one run reads over all
# tenants; where the budget runs out, the next run goes on (commerce.InAppReconcileCursor).
COMMERCE_RECONCILE_PAGE_SIZE = int(os.environ.get("COMMERCE_RECONCILE_PAGE_SIZE", "100"))
COMMERCE_RECONCILE_PAGE_BUDGET = int(os.environ.get("COMMERCE_RECONCILE_PAGE_BUDGET", "2000"))

# Celery beat entries of this area; base.py merges them into CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE: dict[str, dict] = {
    # Expiry and trial -> free switches (DingTalk sends no reliable expiry push), and in-app
    # finishes that failed: every minute.
    "commerce-entitlements-sweep": {
        "task": "commerce.entitlements_sweep",
        "schedule": float(os.environ.get("COMMERCE_SWEEP_EVERY_S", "60")),
    },
    # DingTalk's recommended daily compensation for lost in-app pushes, at 04:43 in DingTalk's
    # time zone: off the hour, at night for Chinese corps.
    "commerce-inapp-reconcile": {
        "task": "commerce.inapp_reconcile",
        "schedule": crontab(hour=20, minute=43),  # UTC
    },
}
