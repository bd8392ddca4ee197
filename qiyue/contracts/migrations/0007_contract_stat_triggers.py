"""Install the ContractStat triggers (the SQL lives in qiyue/contracts/stat_triggers.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qiyue.contracts.stat_triggers import install_stat_triggers

    install_stat_triggers(schema_editor.connection.alias)


def backwards(apps, schema_editor):
    from qiyue.contracts.stat_triggers import drop_stat_triggers

    drop_stat_triggers(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0006_contract_stats")]
    operations = [migrations.RunPython(forwards, backwards)]
