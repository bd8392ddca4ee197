from django.db import migrations

NEW = ("fact.amount_over_limit", "fact.currency_without_rate")


def install(apps, schema_editor):
    """The fact rules added after the first set (an administrator may have made rules of these keys)."""
    from qiyue.workflow.defaults import install_default_rules

    install_default_rules(apps.get_model("workflow", "PreReviewRule"), keys=NEW)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0002_approval_flows")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
