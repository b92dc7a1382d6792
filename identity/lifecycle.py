"""identity's part of a tenant's data (tenants/lifecycle.py): the SSO users it has seen (and any
other identity table with a tenant foreign key), and the admin-console SSO assertions of its corp
(the customer's admin: name, email, avatar) not redeemed by another suite. Admin-SSO credentials
are the ISV's own and stay."""

from functools import partial

from django.db import transaction
from django.db.models import Q

from identity.jsapi_tickets import jsapi_ticket_drop
from identity.models import AdminSsoAssertion
from tenants.lifecycle import TenantDataPart, app_part, register


def _assertions(tenant):
    mine = Q(redeemed_by__isnull=True)
    if tenant.suite_id is not None:
        mine |= Q(redeemed_by_id=tenant.suite_id)
    return [AdminSsoAssertion.objects.filter(mine, corp_id=tenant.corp_id)]


_rows = app_part("identity", order=100, more=_assertions)


def _delete(tenant) -> dict[str, int]:
    # The jsapi_ticket's Redis copy goes once the rows are gone: no network I/O inside the
    # deletion's transaction, and nothing dropped if it rolls back.
    transaction.on_commit(partial(jsapi_ticket_drop, tenant=tenant), robust=True)
    return _rows.delete(tenant)


register(TenantDataPart(name=_rows.name, export=_rows.export, delete=_delete,
                        order=_rows.order))
