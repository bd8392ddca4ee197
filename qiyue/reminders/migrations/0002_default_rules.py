"""The reminder rules a new installation starts with (R7.1); administrators change them afterwards."""

from django.db import migrations


def install(apps, schema_editor):
    from qiyue.reminders.defaults import install_default_rules

    install_default_rules(apps.get_model("reminders", "ReminderRule"))


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
