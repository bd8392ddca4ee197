"""Default retention periods per contract nature.

Ten years for ordinary commercial contracts follows the accounting-archive practice (会计档案管理办法:
original vouchers and the contracts behind them are commonly kept 10 years or more) and stays well
beyond the 3-year limitation period of the Civil Code (民法典 188) and its 20-year long stop.
Joint-venture contracts found a company and matter for its whole life: 30 years. Admins change
these on the retention policy page.
"""

from django.db import migrations

DEFAULTS = {
    "sales": (10, "买卖合同：按会计档案惯例保管 10 年"),
    "purchase": (10, "采购合同：按会计档案惯例保管 10 年"),
    "service": (10, "服务合同：按会计档案惯例保管 10 年"),
    "lease": (10, "租赁合同：保管 10 年"),
    "joint_venture": (30, "合资合同：关系公司存续，保管 30 年"),
    "licensing": (10, "许可合同：保管 10 年"),
    "other": (10, "其他合同：保管 10 年"),
}


def seed(apps, schema_editor):
    RetentionPolicy = apps.get_model("contracts", "RetentionPolicy")
    for nature, (years, description) in DEFAULTS.items():
        RetentionPolicy.objects.get_or_create(nature=nature,
                                              defaults={"retention_years": years, "description": description})


class Migration(migrations.Migration):

    dependencies = [
        ("contracts", "0004_archive"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
