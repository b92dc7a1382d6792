"""The users a tenant's SSO has seen, one row per (tenant, userid) (PROTOCOL-ISV 1.1), and
admin-console SSO: the ISV's credentials and the single-use assertions it hands the product."""

from django.core.validators import URLValidator
from django.db import models

from core.fields import EncryptedTextField
from tenants.models import Suite, Tenant


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


class AdminSsoCredential(models.Model):
    """The ISV's own corp id + SSOSecret for admin-console SSO (PROTOCOL-ISV 1.3), the suites
    whose admins it serves, and the product page those admins land on."""

    # The ISV's own corp (not a customer's): what /sso/admin/?isv= names.
    corp_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    sso_secret = EncryptedTextField()
    # A deployment usually has one ISV corp and several suites; a suite's API keys redeem
    # the assertions of the credentials that serve it.
    suites = models.ManyToManyField(Suite, related_name="admin_sso_credentials", blank=True)
    landing_url = models.URLField(
        max_length=2000, validators=[URLValidator(schemes=["http", "https"])],
        help_text="The product's admin page: the browser is sent here with ?assertion=... "
                  "after a successful admin-console SSO")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "admin-console SSO credential"

    def __str__(self) -> str:
        return self.name or self.corp_id

    def __repr__(self) -> str:
        return f"<AdminSsoCredential {self.corp_id} sso_secret=***>"


class AdminSsoAssertion(models.Model):
    """One admin-console login handed to the product: short-lived, redeemed once through the
    API. Only a digest of its random id is kept, so a database copy redeems nothing."""

    credential = models.ForeignKey(AdminSsoCredential, on_delete=models.CASCADE,
                                   related_name="assertions")
    digest = models.CharField(max_length=64, unique=True)
    userid = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=200, blank=True)
    avatar = models.CharField(max_length=2000, blank=True)
    is_sys = models.BooleanField(default=False)
    # The customer corp the admin came from (DingTalk's corp_info).
    corp_id = models.CharField(max_length=64)
    corp_name = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(Suite, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        verbose_name = "admin-console SSO assertion"
        indexes = [models.Index(fields=["issued_at"], name="identity_assertion_issued")]

    def __str__(self) -> str:
        return f"{self.userid} @ {self.corp_id}"

    def __repr__(self) -> str:
        return f"<AdminSsoAssertion {self.userid} @ {self.corp_id} digest=***>"
