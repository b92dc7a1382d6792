"""The shared limiter's database backend: LimiterWindow (messaging/limiter/models.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="LimiterWindow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("key", models.CharField(max_length=200)),
                ("window_start", models.BigIntegerField()),
                ("used", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("key", "window_start"),
                                            name="messaging_limiterwindow_key_start"),
                ],
            },
        ),
    ]
