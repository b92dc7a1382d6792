"""The limiter's tables: the database backend's keys and admissions (messaging/limiter/
database.py), and the proxy that gives the operators' limiter usage page its place in the admin."""

from django.db import models

from tenants.models import Suite


class LimiterKey(models.Model):
    """One limiter key: the row an acquire locks, and the running total of its admissions.

    `total` is the sum of the key's LimiterAdmission amounts (it moves with them, under this
    row's lock), so an acquire never sums a window's worth of rows. `oldest_ms` is at most the
    key's oldest admission (0: unknown), where trimming starts looking. `newest_ms` is the
    latest admission (or the row's creation), so a sweep can drop keys nobody uses.
    """

    key = models.CharField(max_length=200, primary_key=True)
    total = models.BigIntegerField(default=0)
    oldest_ms = models.BigIntegerField(default=0)
    newest_ms = models.BigIntegerField(default=0)

    class Meta:
        app_label = "messaging"

    def __str__(self) -> str:
        return f"{self.key}: {self.total}"


class LimiterAdmission(models.Model):
    """`amount` units admitted under `key` at `admitted_ms` (epoch ms of core.clock): they count
    against the key's rule until admitted_ms + the rule's window. Admissions of one key in the
    same millisecond share a row; rows leave when an acquire of the key finds them gone."""

    pk = models.CompositePrimaryKey("key", "admitted_ms")
    key = models.CharField(max_length=200)
    admitted_ms = models.BigIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        app_label = "messaging"

    def __str__(self) -> str:
        return f"{self.key}@{self.admitted_ms}: {self.amount}"


class LimiterUsage(Suite):
    """The admin's limiter usage page (messaging/admin_limiter.py), read-only, per suite and
    internal app; a proxy because an admin page needs a model to hang from."""

    class Meta:
        proxy = True
        app_label = "messaging"
        verbose_name = "limiter usage"
        verbose_name_plural = "limiter usage"
