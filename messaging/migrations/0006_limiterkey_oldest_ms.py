"""LimiterKey.oldest_ms: where an acquire's trim starts in the key's admissions (0, a safe lower
bound, until the key's next admission sets it), above the index entries of admissions deleted
before and not yet vacuumed."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_limiter_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='limiterkey',
            name='oldest_ms',
            field=models.BigIntegerField(default=0),
        ),
    ]
