"""In-app purchases (内购): fulfilment of each paid in-app order, and its consumptions."""

from __future__ import annotations

from django.db import models

from tenants.models import Tenant


class InAppOrder(models.Model):
    """The fulfilment of one verified in-app order (PROTOCOL-ISV 3.3: fulfil, then finish).

    - PAID: dingsuite told the product (`commerce.signals.order_paid` -> the `order.paid`
      webhook); waits for the product's POST .../orders/<id>/fulfil.
    - CONFIRMED: the product fulfilled it; dingsuite calls internal/order/finish at once, and
      the beat sweep (commerce.entitlements_sweep) calls it again at `next_attempt_at` when
      that failed, under a lease so only one caller finishes it.
    - FINISH_REFUSED: DingTalk refused the finish with an API error (`finish_errcode`,
      `finish_errmsg`): a retry cannot fix it, so nothing retries it by itself; an operator
      fixes the cause and uses the admin's "retry finish" (back to CONFIRMED). Throttling,
      DingTalk "busy" and transport failures are not refusals: they stay CONFIRMED.
    - FINISHED: DingTalk was told; final.
    - REFUNDED: its order was refunded before it was finished; final.
    """

    class Status(models.TextChoices):
        PAID = "paid", "Paid: waits for the product to fulfil it"
        CONFIRMED = "confirmed", "Fulfilled by the product: finish at DingTalk pending"
        FINISH_REFUSED = "finish_refused", ("DingTalk refused the finish: an operator retries "
                                            "it (admin: retry finish)")
        FINISHED = "finished", "Finished at DingTalk"
        REFUNDED = "refunded", "Refunded before it was finished"

    order = models.OneToOneField("commerce.MarketOrder", on_delete=models.CASCADE,
                                 related_name="in_app_order")
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="in_app_orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PAID)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    finish_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # DingTalk's refusal of the finish (FINISH_REFUSED): errcode (or the new API's code), errmsg.
    finish_errcode = models.CharField(max_length=64, blank=True, default="")
    finish_errmsg = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="inapp_order_due")]

    def __str__(self) -> str:
        return f"in-app order {self.order_id} ({self.status})"

    def __repr__(self) -> str:
        return f"<InAppOrder order={self.order_id} status={self.status}>"


class InAppConsumption(models.Model):
    """One consumption of a consumable in-app order (internal/order/consume), keyed by the
    product's `request_id`, which is also DingTalk's idempotency key.

    PENDING: recorded, DingTalk not yet told (or the call failed in transit): a repeat of the
    same request calls DingTalk again with the same request_id, which DingTalk dedupes.
    DONE: DingTalk recorded it. FAILED: DingTalk refused it (see the error); final.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: a repeat of the request calls DingTalk again"
        DONE = "done", "Recorded by DingTalk"
        FAILED = "failed", "Refused by DingTalk"

    in_app_order = models.ForeignKey(InAppOrder, on_delete=models.CASCADE,
                                      related_name="consumptions")
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="in_app_consumptions")
    request_id = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    userid = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    last_error = models.CharField(max_length=500, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["in_app_order", "request_id"],
                                    name="uniq_inapp_consumption_request"),
        ]

    def __str__(self) -> str:
        return f"consumption {self.request_id} ({self.status})"

    def __repr__(self) -> str:
        return f"<InAppConsumption {self.request_id} status={self.status}>"


class InAppReconcileCursor(models.Model):
    """Where the daily reconciliation is in one tenant's unfinished in-app orders
    (unfinishedorder/list): the page to read next (1: a new pass) and when the last full pass
    ended. A run reads pages until its budget (COMMERCE_RECONCILE_PAGE_BUDGET) is spent; the
    next run starts with the tenants whose pass is oldest (or unfinished) and goes on from
    `next_page`, so every page is read however many there are."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE,
                                  related_name="in_app_reconcile_cursor")
    next_page = models.PositiveIntegerField(default=1)
    pass_done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"reconciliation of tenant {self.tenant_id} at page {self.next_page}"

    def __repr__(self) -> str:
        return f"<InAppReconcileCursor tenant={self.tenant_id} next_page={self.next_page}>"
