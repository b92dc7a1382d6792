"""What the identity app lets go of, daily: admin-console SSO assertions (a customer admin's
name and email) IDENTITY_SSO_ADMIN_ASSERTION_RETAIN_DAYS after they expired, redeemed or not.
Tenant users stay: they are the tenant's data, deleted with it (identity/lifecycle.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from core import clock
from core.purge import purge_in_batches
from identity.models import AdminSsoAssertion


def identity_purge(*, batch_size: int = 1000) -> dict[str, int]:
    """-> rows deleted per kind."""
    cutoff = clock.now() - timedelta(days=settings.IDENTITY_SSO_ADMIN_ASSERTION_RETAIN_DAYS)
    old = AdminSsoAssertion.objects.filter(expires_at__lt=cutoff)
    return {"sso_admin_assertions": purge_in_batches(old, batch_size=batch_size)}
