"""Signals of the commerce app, each sent after its change committed (never by a rolled-back
one). Receivers run in the sending process (usually a Celery worker) and must be quick: the api
app turns them into webhook events.

- entitlement_changed(sender=Entitlement, tenant, entitlement): what the tenant's entitlement
  says changed (edition, seats, kind, dates, expiry).
- order_paid(sender=MarketOrder, tenant, order): a verified, paid in-app order waits for the
  product to fulfil it (POST /api/v1/tenants/<corp>/orders/<id>/fulfil/).
"""

from django.dispatch import Signal

entitlement_changed = Signal()
order_paid = Signal()
