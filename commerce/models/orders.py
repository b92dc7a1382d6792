"""Market orders (biz_type 17 / HTTP market_buy, or imported by id) and their refunds (37 close,
212), one row each per (suite, order id) however often DingTalk pushes them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tenants.models import Suite, Tenant


class MarketOrder(models.Model):
    """One app-market order of a suite, keyed by DingTalk's order id (PROTOCOL-ISV 3.2).

    Every status says what happens next and what makes it happen (commerce/services/orders.py):

    - RECEIVED: stored, not yet checked with DingTalk (GET /v1.0/appMarket/orders/{id}). The
      inbox event that brought it verifies it; when DingTalk is unreachable the inbox retries
      the event with backoff (DEAD after its attempts: an operator reprocesses it or imports
      the order by id). Grants nothing.
    - VERIFY_FAILED: DingTalk denied the order (not ours, unknown, not paid) or it did not
      match the push (corp, item); `verify_error` says why. Grants nothing. A later push of
      the same order, or an operator's "import order by id", verifies it again.
    - PENDING_CHANGE: a verified RENEW_UPGRADE / RENEW_DEGRADE, paid but not in effect: its
      biz_type 37 market_service_open makes it ACTIVE (PROTOCOL-ISV 3.4 step 3). When the open
      has not come COMMERCE_RENEW_CHANGE_GRACE_S after its service start, the beat sweep asks
      DingTalk again and makes it ACTIVE (note: applied without its open) or VERIFY_FAILED
      (DingTalk no longer backs it); DingTalk unreachable: checked again at `change_check_at`.
    - ACTIVE: verified and in effect: counts towards the tenant's entitlement (an in-app
      order counts towards nothing there; its fulfilment is its InAppOrder).
    - REFUNDED: final; a refund (37 close or 212) voided it and the entitlement was
      recomputed without it.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received: verification with DingTalk pending (the inbox retries)"
        VERIFY_FAILED = "verify_failed", ("Verification failed: grants nothing (a new push or "
                                          "an import by id verifies again)")
        PENDING_CHANGE = "pending_change", ("Renew-change paid: waits for its biz_type 37 open "
                                            "(the sweep applies it a grace after its start)")
        ACTIVE = "active", "Active: counts towards the entitlement"
        REFUNDED = "refunded", "Refunded: final, voided"

    class OrderType(models.TextChoices):
        BUY = "BUY", "New purchase"
        RENEW = "RENEW", "Renewal"
        UPGRADE = "UPGRADE", "Upgrade"
        RENEW_UPGRADE = "RENEW_UPGRADE", "Renew-upgrade (takes effect at its 37 open)"
        RENEW_DEGRADE = "RENEW_DEGRADE", "Renew-degrade (takes effect at its 37 open)"
        UNKNOWN = "", "Unknown (imported by id: DingTalk's order API does not say)"

    class ChargeType(models.TextChoices):
        # HTTP market_buy's orderChargeType; SyncHTTP rows carry none (derive.py decides then).
        NONE = "", "Not stated"
        FREE = "FREE", "Free open"
        TRYOUT = "TRYOUT", "Trial open"

    class Source(models.TextChoices):
        PUSH = "push", "Pushed by DingTalk"
        IMPORT = "import", "Imported by id (an operator)"
        RECONCILE = "reconcile", "Found by the daily in-app reconciliation"

    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="market_orders")
    corp_id = models.CharField(max_length=64)
    # Set once the corp is a tenant here (an order can be pushed before its authorization).
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="market_orders")
    order_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PUSH)
    order_type = models.CharField(max_length=16, choices=OrderType.choices, blank=True,
                                  default="")
    charge_type = models.CharField(max_length=8, choices=ChargeType.choices, blank=True,
                                   default="")
    goods_code = models.CharField(max_length=64, blank=True, default="")
    goods_name = models.CharField(max_length=200, blank=True, default="")
    item_code = models.CharField(max_length=64, blank=True, default="")
    item_name = models.CharField(max_length=200, blank=True, default="")
    sale_model_type = models.CharField(max_length=32, blank=True, default="")
    # Seats: the item's headcount range, or the purchased quantity (quantity specs).
    quantity = models.PositiveIntegerField(null=True, blank=True)
    max_of_people = models.PositiveIntegerField(null=True, blank=True)
    min_of_people = models.PositiveIntegerField(null=True, blank=True)
    # Money in fen. pay_fee is DingTalk's verified totalActualPayFee when known.
    pay_fee = models.BigIntegerField(null=True, blank=True)
    nominal_pay_fee = models.BigIntegerField(null=True, blank=True)
    discount_fee = models.BigIntegerField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    service_start_at = models.DateTimeField(null=True, blank=True)
    service_stop_at = models.DateTimeField(null=True, blank=True)
    auto_change_free_item = models.BooleanField(default=False)
    in_app = models.BooleanField(default=False)
    main_goods_code = models.CharField(max_length=64, blank=True, default="")
    order_create_source = models.CharField(max_length=32, blank=True, default="")
    order_label = models.PositiveSmallIntegerField(null=True, blank=True)
    main_corp_id = models.CharField(max_length=64, blank=True, default="")
    out_trade_no = models.CharField(max_length=64, blank=True, default="")
    # The buyer (personal data: blanked by the tenant data lifecycle).
    buyer_userid = models.CharField(max_length=64, blank=True, default="")
    buyer_unionid = models.CharField(max_length=64, blank=True, default="")
    # DingTalk's order status when verified (0 closed, 3 paid, 4 created).
    dingtalk_status = models.SmallIntegerField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_error = models.CharField(max_length=500, blank=True, default="")
    # A renew-change's biz_type 37 market_service_open (it may come before its 17).
    change_opened_at = models.DateTimeField(null=True, blank=True)
    # When it took effect for the entitlement (paid, or its 37 open): the latest wins.
    effective_at = models.DateTimeField(null=True, blank=True)
    # What the ledger did that the pushes alone do not explain (an ignored open, ...).
    note = models.CharField(max_length=200, blank=True, default="")
    # A PENDING_CHANGE past its grace whose check with DingTalk failed: the next check's time.
    change_check_at = models.DateTimeField(null=True, blank=True)
    # The pushes that carried it (kinds and event ids), and its last pushed payload.
    pushes = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "order_id"], name="uniq_market_order"),
        ]
        indexes = [
            models.Index(fields=["suite", "corp_id"], name="market_order_corp"),
            models.Index(fields=["tenant", "status"], name="market_order_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.status})"

    def __repr__(self) -> str:
        return f"<MarketOrder {self.order_id} suite={self.suite_id} status={self.status}>"

    @property
    def is_renew_change(self) -> bool:
        return self.order_type in (self.OrderType.RENEW_UPGRADE, self.OrderType.RENEW_DEGRADE)


class MarketRefund(models.Model):
    """A refund of one order. biz_type 212 carries no refund id and the same refund may also
    come as 37 market_service_close, so both are one row per (suite, order id), each source
    recorded."""

    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="market_refunds")
    corp_id = models.CharField(max_length=64, blank=True, default="")
    order_id = models.CharField(max_length=64)
    refund_id = models.CharField(max_length=64, blank=True, default="")  # 37 close only
    refund_fee = models.BigIntegerField(null=True, blank=True)  # fen; 212 only
    close_type = models.SmallIntegerField(null=True, blank=True)  # 37: 3 = refund
    via_service_close = models.BooleanField(default=False)  # seen as 37 market_service_close
    via_refund_event = models.BooleanField(default=False)  # seen as 212
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "order_id"], name="uniq_market_refund"),
        ]
        indexes = [models.Index(fields=["suite", "corp_id"], name="market_refund_corp",
                                condition=~Q(corp_id=""))]

    def __str__(self) -> str:
        return f"refund of order {self.order_id}"

    def __repr__(self) -> str:
        return f"<MarketRefund order={self.order_id} suite={self.suite_id}>"
