"""The customer page's overdue sum reads an index on SQLite (see qiyue/contracts/sqlite_indexes.py);
post_migrate puts it back whenever a later migration rebuilds the table."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qiyue.contracts.sqlite_indexes import install_sqlite_indexes

    install_sqlite_indexes(schema_editor.connection.alias)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS contract_customer_overdue")


class Migration(migrations.Migration):

    dependencies = [("contracts", "0028_customer_money_index")]

    operations = [migrations.RunPython(forwards, backwards)]
