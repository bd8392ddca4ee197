"""What a database superuser (or the owner of the SQLite file) can do that the application cannot:
switch the audit table's guards off and change rows behind the application's back."""

from contextlib import contextmanager

from django.db import connection

from qiyue.audit.guards import SQLITE_TRIGGERS, TABLE, ensure_guards


@contextmanager
def guards_off():
    """The audit table's guard triggers off for the duration (PostgreSQL: disabled as a superuser
    would; SQLite: dropped as the file's owner would, then put back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        else:
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        if connection.vendor != "postgresql":
            ensure_guards()


def tamper(sql, params=()):
    with guards_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)
