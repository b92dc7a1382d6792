"""The users a tenant's SSO has seen, one row per (tenant, userid) (PROTOCOL-ISV 1.1)."""

from django.db import models

from tenants.models import Tenant


class TenantUser(models.Model):
    """A tenant's user as getuserinfo last answered; unionid links one person across tenants
    (unique per user across all corps for the same ISV)."""

    # Deleted with the tenant: a user record is the customer's data (PROTOCOL-ISV 5.3).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sso_users")
    userid = models.CharField(max_length=64)
    # Blank only when the legacy user/getuserinfo (which carries none) is all that ever answered.
    unionid = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    is_admin = models.BooleanField(default=False)
    # 1 main admin, 2 sub-admin, 100 boss, 0 other.
    sys_level = models.IntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "userid"], name="identity_user_unique"),
        ]
        indexes = [models.Index(fields=["unionid"], name="identity_user_unionid")]

    def __str__(self) -> str:
        return f"{self.userid} @ {self.tenant_id}"
