"""The messaging app's receivers of the tenants lifecycle signals (connected in apps.py).

Each runs after the tenant's change committed, in the sending process: database updates and
enqueues only, never a DingTalk call.
"""

from messaging.services.lifecycle import tenant_batches_cancel, tenant_batches_resume


def on_tenant_active_again(sender, tenant, **kwargs) -> None:
    tenant_batches_resume(tenant=tenant)


def on_tenant_relieved(sender, tenant, **kwargs) -> None:
    tenant_batches_cancel(tenant=tenant)
