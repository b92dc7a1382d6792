"""`manage.py rotate_keys`: re-encrypt every stored secret under the newest encryption key."""

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.fields import EncryptedJSONField, EncryptedTextField, rotate_str

_BATCH = 500


def _encrypted_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField | EncryptedJSONField):
                yield model._meta.db_table, model._meta.pk.column, field.column


def _rotate_column(table: str, pk: str, column: str) -> int:
    """Rotate one column in batches; compare-and-set so a concurrent write is never undone."""
    quote = connection.ops.quote_name
    select = (f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
              f"WHERE {quote(pk)} > %s AND {quote(column)} <> '' ORDER BY {quote(pk)} LIMIT %s")
    update = (f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
              f"WHERE {quote(pk)} = %s AND {quote(column)} = %s")
    rotated, last = 0, None
    while True:
        with connection.cursor() as cursor:
            cursor.execute(select, [last if last is not None else -1, _BATCH])
            rows = cursor.fetchall()
        if not rows:
            return rotated
        with transaction.atomic(), connection.cursor() as cursor:
            for row_pk, value in rows:
                if value is None:
                    continue
                cursor.execute(update, [rotate_str(value), row_pk, value])
                rotated += cursor.rowcount
        last = rows[-1][0]


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the first of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for table, pk, column in _encrypted_columns():
            try:
                count = _rotate_column(table, pk, column)
            except InvalidToken:
                raise CommandError(
                    f"{table}.{column} holds a value no configured key decrypts: "
                    "keep the old key in FIELD_ENCRYPTION_KEYS until rotation succeeds"
                ) from None
            total += count
            if options["verbosity"] >= 2:
                self.stdout.write(f"{table}.{column}: {count} values re-encrypted")
        self.stdout.write(f"{total} values re-encrypted under the newest key")
