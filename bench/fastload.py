"""Fast bulk loading for the benchmark data set: plain executemany on SQLite, COPY on PostgreSQL.

Rows are dicts of field name → value; fields not given take the model field's default. The ORM's
bulk_create builds a model instance per row, which is what makes a million rows slow.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone


def _columns(model):
    return [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]


def _default(field):
    if field.has_default():
        return field.get_default()
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        return timezone.now()
    if field.null:
        return None
    return ""


# Fields whose database value is the Python value the generators give (str, int, bool, None): their
# get_db_prep_save is skipped, a third of the load time of a million rows.
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _db_value(field, value, using=None):
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return field.get_db_prep_save(value, using or connection)


def _converter(field, using):
    if isinstance(field, _PLAIN):
        return None
    if isinstance(field, models.DateTimeField) and using.vendor == "sqlite" and settings.USE_TZ:
        # What the SQLite backend's adapt_datetimefield_value does, without its checks per value.
        tz = using.timezone

        def sqlite_datetime(value):
            if value is None:
                return None
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.UTC)
            return str(value.astimezone(tz).replace(tzinfo=None))

        return sqlite_datetime
    return lambda value: _db_value(field, value, using)


def bulk_insert(model, rows: Iterable[dict], batch: int = 20_000) -> int:
    fields = _columns(model)
    defaults = {f.name: _default(f) for f in fields}
    using = connections[DEFAULT_DB_ALIAS]  # not the proxy: one attribute look-up less per value
    converters = [_converter(f, using) for f in fields]
    keys = [(f.name, f.attname, defaults[f.name], convert) for f, convert in zip(fields, converters, strict=True)]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    buffer: list[tuple] = []

    def flush():
        if not buffer:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for record in buffer:
                        copy.write_row(record)
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", buffer)
        buffer.clear()

    for row in rows:
        values = []
        for name, attname, default, convert in keys:
            value = row[name] if name in row else row.get(attname, default)
            values.append(value if convert is None else convert(value))
        buffer.append(tuple(values))
        count += 1
        if len(buffer) >= batch:
            flush()
    flush()
    return count


def speed_up_sqlite() -> None:
    """Loading a throwaway benchmark database: durability is not needed while it fills."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")


def analyze() -> None:
    """Statistics for the planner; on PostgreSQL also the visibility map (VACUUM), without which no
    index-only scan is possible on a freshly loaded table (autovacuum would get there later)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

