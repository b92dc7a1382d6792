"""Celery tasks of the commerce app: thin, named, on the default queue (sweeps)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from commerce.services.reconcile import in_app_reconcile
from commerce.services.sweep import commerce_sweep


@shared_task(name="commerce.entitlements_sweep", acks_late=True, ignore_result=True)
def entitlements_sweep_task() -> None:
    """Beat: overdue renew-changes, entitlements whose order started or ended, due in-app
    finishes (all idempotent, so acks late)."""
    commerce_sweep()


@shared_task(name="commerce.inapp_reconcile", acks_late=True, ignore_result=True)
def in_app_reconcile_task() -> None:
    """Beat, daily: paid in-app orders DingTalk lists as unfinished (imports are idempotent)."""
    if settings.COMMERCE_RECONCILE_INAPP:
        in_app_reconcile()
