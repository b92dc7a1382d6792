"""Celery tasks of the directory app: thin wrappers that take ids and call one service.

Delivery rules: the sync is ack-late (a worker killed mid-walk leaves the message, and the
claim plus the checkpoint make a second run resume, never repeat); the sweep and the lazy
department fetch are not (beat runs the sweep again in a minute; the next sync or row fetches a
department again). Retries live on DirectorySync, swept by beat, not on the task.
"""

from celery import shared_task

from directory.services import incremental, sync, sync_sweep
from tenants.models import Tenant


@shared_task(name="directory.tenant_sync", acks_late=True, ignore_result=True)
def tenant_sync(tenant_id: int) -> None:
    """Run or resume one tenant's full sync (nothing when another worker holds it)."""
    sync.sync_run(tenant_id=tenant_id)


@shared_task(name="directory.syncs_sweep", ignore_result=True)
def syncs_sweep() -> None:
    """Resume, retry and schedule the tenants' syncs."""
    sync_sweep.syncs_sweep()


@shared_task(name="directory.dept_fetch", ignore_result=True)
def dept_fetch(tenant_id: int, dept_id: int) -> None:
    """Fetch one department a pushed row referred to before the mirror had it."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None:
        incremental.department_fetch(tenant=tenant, dept_id=dept_id)
