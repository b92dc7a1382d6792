"""The database backend's one table: admissions per limiter key (messaging/limiter/database.py)."""

from django.db import models

# The row of each key with this window_start holds no admission: it is the row that an acquire
# locks (SELECT ... FOR UPDATE) to serialise every acquire of that key across processes.
LOCK_ROW = 0


class LimiterWindow(models.Model):
    """`used` units admitted under `key` at `window_start` (epoch ms): they count against the
    key's rule until window_start + the rule's window. Admissions of one key in the same
    millisecond share a row."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "messaging"
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"],
                                    name="messaging_limiterwindow_key_start"),
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.used}"
