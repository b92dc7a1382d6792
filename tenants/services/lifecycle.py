"""The customer's data once they leave (PROTOCOL-ISV 5.3, docs/data-lifecycle.md): scheduled at
the relieve per the suite's policy, revived by a re-authorization, exported and then deleted by
the daily sweep or an operator, with an audit row (TenantDeletion) that stays.

Deletion is durable work on the tenant row: a conditional update claims it (data_status
DELETING with a lease), then one transaction re-checks, under the row lock, that the tenant is
still relieved and still claimed (a re-authorization meanwhile cancels it), writes a fresh
export and runs every part's delete. A holder that dies leaves a lease that runs out; the next
sweep takes the tenant over.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import clock
from tenants.errors import ServiceError, SuiteInvalid
from tenants.errors_lifecycle import (
    TenantDataAlreadyDeleted,
    TenantDataBusy,
    TenantNotRelieved,
    TenantReauthorized,
)
from tenants.lifecycle import parts
from tenants.lifecycle_parts import SETTLED_EVENTS, tenant_events
from tenants.models import Suite, Tenant, TenantDeletion
from tenants.services.lifecycle_export import export_path_for, tenant_export_write

logger = logging.getLogger("tenants.lifecycle")

DataStatus = Tenant.DataStatus
Reason = TenantDeletion.Reason
MAX_GRACE_DAYS = 3650


def suite_grace_days(suite: Suite) -> int:
    return suite.data_grace_days if suite.data_grace_days is not None \
        else settings.TENANTS_DATA_GRACE_DAYS


def suite_data_policy_check(*, policy: str, grace_days: int | None) -> None:
    """Raise SuiteInvalid naming the bad field(s) unless both are valid."""
    problems = {}
    if policy not in Suite.DataPolicy.values:
        problems["data_policy"] = f"one of {', '.join(Suite.DataPolicy.values)}"
    if grace_days is not None and not 0 <= grace_days <= MAX_GRACE_DAYS:
        problems["data_grace_days"] = f"0-{MAX_GRACE_DAYS} days, or empty for the default"
    if problems:
        raise SuiteInvalid("invalid data policy", extra={"fields": problems})


def suite_data_policy_set(*, suite: Suite, policy: str, grace_days: int | None) -> Suite:
    """Set what becomes of the suite's relieved tenants' data (grace None: the setting)."""
    suite_data_policy_check(policy=policy, grace_days=grace_days)
    Suite.objects.filter(pk=suite.pk).update(data_policy=policy, data_grace_days=grace_days,
                                             updated_at=clock.now())
    suite.data_policy, suite.data_grace_days = policy, grace_days
    return suite


def tenant_data_schedule(*, tenant: Tenant) -> None:
    """At the relieve (on the locked row, saved by the caller): schedule deletion after the
    suite's grace, or keep the data until an operator deletes it."""
    tenant.data_lease_expires_at = None
    keep = Suite.DataPolicy.KEEP_UNTIL_REQUESTED
    if tenant.suite_id is None or tenant.suite.data_policy == keep:
        tenant.data_status, tenant.data_delete_after = DataStatus.KEPT, None
        return
    tenant.data_status = DataStatus.SCHEDULED
    tenant.data_delete_after = (tenant.relieved_at or clock.now()) + timedelta(
        days=suite_grace_days(tenant.suite))


def tenant_data_revive(*, tenant: Tenant) -> None:
    """At a re-authorization (on the locked row, saved by the caller): whatever was scheduled
    is off. Data still there stays as it was; after a deletion the tenant starts afresh."""
    if tenant.data_status == DataStatus.LIVE:
        return
    logger.info("tenant %s authorized again: its data (%s) is live", tenant.corp_id,
                tenant.data_status)
    tenant.data_status = DataStatus.LIVE
    tenant.data_delete_after = tenant.data_lease_expires_at = tenant.data_deleted_at = None


def _operator_may_claim(now: datetime) -> Q:
    return Q(status=Tenant.Status.RELIEVED) & (
        Q(data_status__in=[DataStatus.LIVE, DataStatus.SCHEDULED, DataStatus.KEPT])
        | Q(data_status=DataStatus.DELETING, data_lease_expires_at__lt=now))


def _sweep_may_claim(now: datetime) -> Q:
    return Q(status=Tenant.Status.RELIEVED) & (
        Q(data_status=DataStatus.SCHEDULED, data_delete_after__lte=now)
        | Q(data_status=DataStatus.DELETING, data_lease_expires_at__lt=now))


def _claim(tenant_id: int, where: Q) -> bool:
    """Take the tenant for deletion under a lease; False: not claimable, or someone has it."""
    now = clock.now()
    lease = now + timedelta(seconds=settings.TENANTS_DATA_LEASE_S)
    return Tenant.objects.filter(Q(pk=tenant_id) & where).update(
        data_status=DataStatus.DELETING, data_lease_expires_at=lease, updated_at=now) == 1


def tenant_data_delete(*, tenant: Tenant, reason: str = Reason.CUSTOMER_REQUEST,
                       operator: str | None = None) -> TenantDeletion:
    """Export afresh, then delete everything dingsuite holds for a relieved tenant; -> the
    audit row. Refuses an authorized tenant or an internal app."""
    current = Tenant.objects.get(pk=tenant.pk)
    if current.status != Tenant.Status.RELIEVED:
        raise TenantNotRelieved(
            f"tenant {current.corp_id} is {current.status} "
            + ("(an internal app)" if current.is_internal_app else "")
            + ": only a relieved tenant's data is deleted",
            extra={"corp_id": current.corp_id, "status": current.status})
    if current.data_status == DataStatus.DELETED:
        raise TenantDataAlreadyDeleted(
            f"tenant {current.corp_id}'s data was deleted at {current.data_deleted_at}",
            extra={"corp_id": current.corp_id})
    if not _claim(current.pk, _operator_may_claim(clock.now())):
        raise TenantDataBusy(f"tenant {current.corp_id} is being deleted by someone else",
                             extra={"corp_id": current.corp_id})
    return _delete_claimed(current.pk, reason=reason, operator=operator or "")


def _delete_claimed(tenant_id: int, *, reason: str, operator: str) -> TenantDeletion:
    try:
        with transaction.atomic():
            deletion = _delete_parts(tenant_id, reason=reason, operator=operator)
    except BaseException:
        # The next sweep may try again at once (a re-authorization meanwhile made it LIVE).
        Tenant.objects.filter(pk=tenant_id, data_status=DataStatus.DELETING).update(
            data_lease_expires_at=clock.now())
        raise
    logger.info("tenant %s: data deleted (%s), %d rows", deletion.corp_id, reason,
                sum(deletion.counts.values()))
    return deletion


def _delete_parts(tenant_id: int, *, reason: str, operator: str) -> TenantDeletion:
    tenant = (Tenant.objects.select_for_update(of=("self",)).select_related("suite")
              .get(pk=tenant_id))
    if tenant.status == Tenant.Status.RELIEVED and tenant.data_status == DataStatus.DELETED:
        # Overtaken: our lease ran out and the sweep's takeover finished first.
        raise TenantDataAlreadyDeleted(
            f"tenant {tenant.corp_id}'s data was deleted at {tenant.data_deleted_at} by "
            "another deleter (this one outlived its lease)", extra={"corp_id": tenant.corp_id})
    if tenant.status != Tenant.Status.RELIEVED or tenant.data_status != DataStatus.DELETING:
        raise TenantReauthorized(f"tenant {tenant.corp_id} was authorized again: nothing "
                                 "deleted", extra={"corp_id": tenant.corp_id})
    unprocessed = tenant_events(tenant).exclude(status__in=SETTLED_EVENTS).count()
    if unprocessed:
        # Possibly a re-authorization stored but not yet processed: deleting it would lose it.
        raise TenantDataBusy(
            f"tenant {tenant.corp_id} has {unprocessed} callback event(s) not processed yet: "
            "nothing deleted; it is tried again once they are",
            extra={"corp_id": tenant.corp_id, "unprocessed_events": unprocessed})
    # The export is the customer's backup of exactly what is deleted, so it is taken here, in
    # the deleting transaction under the row lock (which holds off every insert of a row with
    # a tenant foreign key), never reused from earlier: a late webhook event or callback
    # written after an earlier export would be deleted without a copy. Each export is a new
    # file; earlier ones stay. Only a database read and a local file write: no network I/O.
    export = tenant_export_write(tenant=tenant, path=export_path_for(tenant=tenant))
    audit = {"tenant_name": tenant.full_corp_name or tenant.corp_name,
             "authorized_at": tenant.authorized_at, "relieved_at": tenant.relieved_at}
    counts: dict[str, int] = {}
    for part in parts():
        for label, n in part.delete(tenant).items():
            counts[label] = counts.get(label, 0) + n
    now = clock.now()
    Tenant.objects.filter(pk=tenant_id).update(
        data_status=DataStatus.DELETED, data_deleted_at=now, data_delete_after=None,
        data_lease_expires_at=None, updated_at=now)
    return TenantDeletion.objects.create(
        tenant=tenant, suite=tenant.suite, suite_key=tenant.suite.suite_key if tenant.suite_id
        else "", corp_id=tenant.corp_id, deleted_at=now, reason=reason, operator=operator,
        counts=counts, export_path=str(export.path), export_sha256=export.sha256, **audit)


def tenant_data_sweep(*, limit: int = 100) -> list[TenantDeletion]:
    """The daily sweep: export and delete every relieved tenant past its grace (and any a dead
    holder left half done); -> the audit rows it made. Safe to run twice at once."""
    now = clock.now()
    # A suite switched to keeping data: its tenants not yet deleted are kept from now on.
    Tenant.objects.filter(data_status=DataStatus.SCHEDULED,
                          suite__data_policy=Suite.DataPolicy.KEEP_UNTIL_REQUESTED).update(
        data_status=DataStatus.KEPT, data_delete_after=None, updated_at=now)
    due = list(Tenant.objects.filter(_sweep_may_claim(now)).order_by("data_delete_after", "pk")
               .values_list("pk", "data_delete_after")[:limit])
    done = []
    for tenant_id, delete_after in due:
        if not _claim(tenant_id, _sweep_may_claim(clock.now())):
            continue  # another sweep (or an operator) has it
        # A takeover of an operator's unfinished request has no grace date: it was theirs.
        reason = (Reason.GRACE_EXPIRED if delete_after and delete_after <= now
                  else Reason.CUSTOMER_REQUEST)
        try:
            done.append(_delete_claimed(tenant_id, reason=reason, operator=""))
        except ServiceError as exc:
            logger.warning("tenant %s not deleted: %s", tenant_id, exc.code)
        except Exception:
            logger.exception("tenant %s: deletion failed; the next sweep tries again",
                             tenant_id)
    return done
