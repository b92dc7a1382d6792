"""Deleting old rows in small batches: each batch its own short transaction (a few thousand
rows by primary key), so a purge never holds long locks on a busy table or one huge WAL burst."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

DEFAULT_BATCH = 1000


def purge_in_batches(queryset: QuerySet, *, batch_size: int = DEFAULT_BATCH,
                     max_batches: int | None = None) -> int:
    """Delete every row of `queryset`, `batch_size` at a time; -> rows deleted (this model's
    own, not cascades). `max_batches` bounds one run: the next run carries on."""
    model = queryset.model
    deleted = batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            _, per_model = model.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(model._meta.label, 0)
        batches += 1
    return deleted
