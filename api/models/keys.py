"""API keys: hashed, bound to one owner (a suite or an internal app), optionally to some of
its tenants, revocable."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from api.models.owners import SuiteOrAppOwned
from tenants.models import Suite, Tenant


class ApiKey(SuiteOrAppOwned, models.Model):
    """A key the ISV's product authenticates with (`Authorization: Bearer dsk_...`).

    Only `prefix` (to find the row) and the SHA-256 of the whole key are stored: the key is shown
    once, at creation. A key of a suite sees that suite's tenants (all, or only `tenants` when
    some are listed); a key of an internal app sees that app only.
    """

    name = models.CharField(max_length=100)
    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="api_keys",
                              null=True, blank=True)
    app = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys",
                            null=True, blank=True,
                            limit_choices_to={"kind": Tenant.Kind.INTERNAL_APP})
    # Empty: every tenant of the suite, present and future.
    tenants = models.ManyToManyField(Tenant, blank=True, related_name="restricted_api_keys")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    # DRF's rate syntax ("600/min"); empty: API_KEY_THROTTLE_RATE.
    throttle_rate = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(suite__isnull=False, app__isnull=True)
                | Q(suite__isnull=True, app__isnull=False),
                name="api_key_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} owner={self.owner_label} revoked={self.is_revoked}>"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

