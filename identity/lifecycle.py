"""identity's part of a tenant's data (tenants/lifecycle.py): the SSO users it has seen (and any
other identity table with a tenant foreign key), and the admin-console SSO assertions of its corp
(the customer's admin: name, email, avatar) not redeemed by another suite. Admin-SSO credentials
are the ISV's own and stay."""

from django.db.models import Q

from identity.models import AdminSsoAssertion
from tenants.lifecycle import app_part, register


def _assertions(tenant):
    mine = Q(redeemed_by__isnull=True)
    if tenant.suite_id is not None:
        mine |= Q(redeemed_by_id=tenant.suite_id)
    return [AdminSsoAssertion.objects.filter(mine, corp_id=tenant.corp_id)]


register(app_part("identity", order=100, more=_assertions))
