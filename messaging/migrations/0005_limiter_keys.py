"""The limiter's database backend: a row per key (LimiterKey: the row an acquire locks, with the
running total) and a row per admission (LimiterAdmission, keyed by (key, ms)) instead of
LimiterWindow, whose lock rows shared the admissions' table. The last hour of admissions is
carried over (longer than any window), so a deploy forgets none still counting.
LimiterUsage: the admin's limiter usage page (a proxy of Suite)."""

from django.db import migrations, models
from django.db.models import Max, Sum

HOUR_MS = 3_600_000


def carry_admissions_over(apps, schema_editor):
    window_model = apps.get_model("messaging", "LimiterWindow")
    key_model = apps.get_model("messaging", "LimiterKey")
    admission_model = apps.get_model("messaging", "LimiterAdmission")
    # window_start 0 marked the old lock rows, which held no admission. The newest admission
    # stands in for the clock: nothing older than an hour before it counts any more.
    newest = window_model.objects.aggregate(newest=Max("window_start"))["newest"]
    if not newest:
        return
    recent = window_model.objects.filter(window_start__gt=max(0, newest - HOUR_MS))
    admission_model.objects.bulk_create(
        (admission_model(key=key, admitted_ms=start, amount=used) for key, start, used
         in recent.values_list("key", "window_start", "used").iterator()), batch_size=1000)
    key_model.objects.bulk_create(
        (key_model(key=row["key"], total=row["total"], newest_ms=row["newest"])
         for row in recent.values("key").annotate(total=Sum("used"), newest=Max("window_start"))
         .order_by("key")), batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0004_batch_window_resends'),
        ('tenants', '0005_internal_apps'),
    ]

    operations = [
        migrations.CreateModel(
            name='LimiterAdmission',
            fields=[
                ('pk', models.CompositePrimaryKey('key', 'admitted_ms', blank=True, editable=False, primary_key=True, serialize=False)),
                ('key', models.CharField(max_length=200)),
                ('admitted_ms', models.BigIntegerField()),
                ('amount', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='LimiterKey',
            fields=[
                ('key', models.CharField(max_length=200, primary_key=True, serialize=False)),
                ('total', models.BigIntegerField(default=0)),
                ('newest_ms', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(carry_admissions_over, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(
            name='LimiterWindow',
        ),
        migrations.CreateModel(
            name='LimiterUsage',
            fields=[
            ],
            options={
                'verbose_name': 'limiter usage',
                'verbose_name_plural': 'limiter usage',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('tenants.suite',),
        ),
    ]
