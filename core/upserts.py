"""One-round-trip inserts that skip rows already present (the callback hot path).

Django's `bulk_create(ignore_conflicts=True)` cannot say which rows were new, and
`get_or_create` costs a SELECT, a savepoint and an INSERT. PostgreSQL's
`INSERT ... ON CONFLICT DO NOTHING RETURNING` answers in one statement: the rows it returns are
exactly the new ones, even when two deliveries of the same push race.
"""

from django.db import connection, models

from core import clock


def _value(field: models.Field, row: dict, now):
    if field.attname in row:
        value = row[field.attname]
    elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    else:
        value = field.get_default()
    # get_db_prep_save runs the field's own conversion, so encrypted fields encrypt here.
    return field.get_db_prep_save(value, connection)


def insert_new(model: type[models.Model], rows: list[dict], *, conflict: tuple[str, ...],
               returning: tuple[str, ...] = ("id",)) -> list[tuple]:
    """Insert `rows` (attname -> value), skipping those that clash on the unique `conflict`
    columns; returns the `returning` columns of the rows actually inserted."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    now = clock.now()
    params, groups = [], []
    for row in rows:
        params.extend(_value(field, row, now) for field in fields)
        groups.append("(" + ", ".join(["%s"] * len(fields)) + ")")
    columns = ", ".join(quote(f.column) for f in fields)
    targets = ", ".join(quote(opts.get_field(name).column) for name in conflict)
    returned = ", ".join(quote(opts.get_field(name).column) for name in returning)
    sql = (f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES {', '.join(groups)} "  # noqa: S608
           f"ON CONFLICT ({targets}) DO NOTHING RETURNING {returned}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
