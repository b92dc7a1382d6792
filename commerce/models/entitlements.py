"""Each tenant's derived entitlement, and the member opens (biz_type 63) behind trials."""

from __future__ import annotations

from django.db import models

from tenants.models import Suite, Tenant


class Entitlement(models.Model):
    """What a tenant may use now, derived from its orders (commerce/services/entitlements.py,
    a pure function over them); never edited by hand.

    - kind NONE: no order in effect and none ever (nothing bought, or every order refunded).
    - kind TRIAL / FREE / PAID with expired False: the order in effect (`order`) gives the
      edition and seats until `current_until`; `active_until` is the latest end over the
      tenant's effective orders.
    - expired True: orders existed but none is in effect now. The beat sweep
      (commerce.entitlements_sweep) recomputes every entitlement whose `next_change_at` is due,
      so expiry and trial -> free switches take effect without any push.
    """

    class Kind(models.TextChoices):
        NONE = "none", "None"
        TRIAL = "trial", "Trial"
        FREE = "free", "Free spec"
        PAID = "paid", "Paid"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="entitlement")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NONE)
    expired = models.BooleanField(default=False)
    goods_code = models.CharField(max_length=64, blank=True, default="")
    item_code = models.CharField(max_length=64, blank=True, default="")
    item_name = models.CharField(max_length=200, blank=True, default="")
    quantity = models.PositiveIntegerField(null=True, blank=True)
    max_of_people = models.PositiveIntegerField(null=True, blank=True)
    min_of_people = models.PositiveIntegerField(null=True, blank=True)
    # The order that gives the edition (in effect now, or the last to end once expired).
    order = models.ForeignKey("commerce.MarketOrder", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    active_from = models.DateTimeField(null=True, blank=True)
    current_until = models.DateTimeField(null=True, blank=True)
    active_until = models.DateTimeField(null=True, blank=True)
    # The earliest start or end of an effective order after the last recompute: the sweep's cue.
    next_change_at = models.DateTimeField(null=True, blank=True)
    # A member opened the app for the whole corp (63 enterprise_tryout): corp-wide for good.
    enterprise_tryout = models.BooleanField(default=False)
    # Bumped on every change of what the entitlement says (the webhook's dedupe key).
    version = models.PositiveIntegerField(default=0)
    recomputed_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant"]
        indexes = [models.Index(fields=["next_change_at"], name="entitlement_next_change")]

    def __str__(self) -> str:
        state = "expired" if self.expired else self.kind
        return f"{self.item_name or self.item_code or 'no edition'} ({state})"

    def __repr__(self) -> str:
        return (f"<Entitlement tenant={self.tenant_id} kind={self.kind} "
                f"expired={self.expired} until={self.active_until}>")

    @property
    def is_active(self) -> bool:
        return self.kind != self.Kind.NONE and not self.expired


class MemberOpen(models.Model):
    """A member (or the corp) opened the app: biz_type 63 goods_tryout (PROTOCOL-ISV 3.1).
    One row per (suite, corp, buyer unionid, fromDate), however often it is pushed."""

    class TryoutType(models.TextChoices):
        PERSONAL = "personal_tryout", "Personal"
        ENTERPRISE = "enterprise_tryout", "Enterprise"
        UNKNOWN = "", "Not stated"

    suite = models.ForeignKey(Suite, on_delete=models.PROTECT, related_name="member_opens")
    corp_id = models.CharField(max_length=64)
    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="member_opens")
    buyer_unionid = models.CharField(max_length=64)
    userid = models.CharField(max_length=64, blank=True, default="")
    tryout_type = models.CharField(max_length=20, choices=TryoutType.choices, blank=True,
                                   default="")
    item_type = models.CharField(max_length=32, blank=True, default="")
    goods_code = models.CharField(max_length=64, blank=True, default="")
    # DingTalk's strings (yyyy-MM-dd HH:mm:ss, time zone UNCERTAIN: COMMERCE_TRYOUT_TZ).
    from_date = models.CharField(max_length=32)
    end_date = models.CharField(max_length=32, blank=True, default="")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "corp_id", "buyer_unionid", "from_date"],
                                    name="uniq_member_open"),
        ]

    def __str__(self) -> str:
        return f"{self.tryout_type or 'open'} by {self.buyer_unionid}"

    def __repr__(self) -> str:
        return f"<MemberOpen suite={self.suite_id} corp={self.corp_id} {self.tryout_type}>"
