"""identity's part of a tenant's data (tenants/lifecycle.py): the SSO users it has seen (and any
other identity table with a tenant foreign key), and the admin-console SSO assertions of its corp
(the customer's admin: name, email, avatar) that are this suite's (see _assertions). Admin-SSO
credentials are the ISV's own and stay."""

from functools import partial

from django.db import transaction
from django.db.models import Q

from identity.jsapi_tickets import jsapi_ticket_drop
from identity.models import AdminSsoAssertion, AdminSsoCredential
from tenants.lifecycle import TenantDataPart, app_part, register
from tenants.models import Tenant


def _assertions(tenant):
    """The corp's assertions redeemed by this suite, and the unredeemed ones of credentials
    that serve this suite and no other suite the corp is still authorized for.

    An assertion names a corp and credentials, not a suite: one credential usually serves all
    of an ISV's suites, so an unredeemed one may be a login into another suite's product that
    the corp still uses. Those stay (expired ones too: the retention run purges them).
    """
    corp = AdminSsoAssertion.objects.filter(corp_id=tenant.corp_id)
    if tenant.suite_id is None:
        return [corp.none()]  # an internal app's key never redeems an assertion
    still_used = (Tenant.objects.filter(corp_id=tenant.corp_id, status=Tenant.Status.AUTHORIZED,
                                        suite__isnull=False)
                  .exclude(suite_id=tenant.suite_id).values("suite_id"))
    ours_alone = (AdminSsoCredential.objects.filter(suites=tenant.suite_id)
                  .exclude(suites__in=still_used).values("pk"))
    return [corp.filter(Q(redeemed_by_id=tenant.suite_id)
                        | Q(redeemed_by__isnull=True, credential_id__in=ours_alone))]


_rows = app_part("identity", order=100, more=_assertions)


def _delete(tenant) -> dict[str, int]:
    # The jsapi_ticket's Redis copy goes once the rows are gone: no network I/O inside the
    # deletion's transaction, and nothing dropped if it rolls back.
    transaction.on_commit(partial(jsapi_ticket_drop, tenant=tenant), robust=True)
    return _rows.delete(tenant)


register(TenantDataPart(name=_rows.name, export=_rows.export, delete=_delete,
                        order=_rows.order))
