"""The audit table refuses UPDATE and DELETE on SQLite too, and TRUNCATE on PostgreSQL; the
PostgreSQL trigger function gains the narrow maintenance bypass of the test harness's flush.
The SQL is qiyue.audit.guards' (which also puts the SQLite triggers back after a table rebuild)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qiyue.audit.guards import install

    install(schema_editor.connection)


def backwards(apps, schema_editor):
    from qiyue.audit.guards import uninstall

    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]
