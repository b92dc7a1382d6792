"""The directory app's signal for the apps above it.

directory_changed is sent after commit with `sender=Tenant, tenant=<Tenant>,
reason="sync"|"rows", generation=<int>`: after each finished full sync ("sync") and after each
applied batch of contact rows ("rows"). Receivers must be quick (enqueue work): the API turns it
into the `directory.changed` webhook.
"""

from django.dispatch import Signal

directory_changed = Signal()
