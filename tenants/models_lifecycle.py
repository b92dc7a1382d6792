"""The audit row of a tenant's data deletion: what remains once the customer's data is gone."""

from django.db import models

from tenants.models import Suite, Tenant


class TenantDeletion(models.Model):
    """One deletion of a tenant's data: who, when, why, what (rows per table) and the export
    taken before it. Never deleted by dingsuite; the corp id and suite key are copied so the row
    outlives the tenant and suite rows."""

    class Reason(models.TextChoices):
        GRACE_EXPIRED = "grace_expired", "The grace period after the relieve ran out"
        CUSTOMER_REQUEST = "customer_request", "An operator deleted it on the customer's request"

    tenant = models.ForeignKey(Tenant, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="data_deletions")
    suite = models.ForeignKey(Suite, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="data_deletions")
    suite_key = models.CharField(max_length=64, blank=True)
    corp_id = models.CharField(max_length=64)
    # The corp's name as it was at the deletion (the tenant row keeps none).
    tenant_name = models.CharField(max_length=200, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    relieved_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # The operator's username for a customer's request; empty for the sweep.
    operator = models.CharField(max_length=150, blank=True)
    # Rows deleted per table label: {"messaging.Notification": 3, ...}.
    counts = models.JSONField(default=dict)
    export_path = models.CharField(max_length=500, blank=True)
    export_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-deleted_at", "-id"]
        verbose_name = "tenant data deletion"
        indexes = [models.Index(fields=["corp_id"], name="tenant_deletion_corp")]

    def __str__(self) -> str:
        return f"{self.corp_id} deleted {self.deleted_at:%Y-%m-%d}"

    def __repr__(self) -> str:
        return f"<TenantDeletion {self.corp_id} suite={self.suite_key} reason={self.reason}>"
