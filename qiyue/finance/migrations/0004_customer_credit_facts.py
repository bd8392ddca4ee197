"""Fill each customer's payment behaviour (the credit indicator's facts) from what its contracts hold;
from here on the finance services keep it with every money change."""

from django.db import migrations
from django.db.models import Count, F, Min, Q


def fill(apps, schema_editor):
    Contract = apps.get_model("contracts", "Contract")
    Customer = apps.get_model("customers", "Customer")
    Installment = apps.get_model("finance", "Installment")
    facts = {}
    for row in (Contract.objects.filter(deleted_at__isnull=True, unpaid_since__isnull=False).order_by()
                .values("customer_id").annotate(since=Min("unpaid_since"))):
        facts.setdefault(row["customer_id"], {})["credit_overdue_since"] = row["since"]
    for row in (Installment.objects.filter(contract__deleted_at__isnull=True, paid_on__isnull=False).order_by()
                .values("contract__customer_id")
                .annotate(n=Count("id"), on_time=Count("id", filter=Q(paid_on__lte=F("due_date"))))):
        facts.setdefault(row["contract__customer_id"], {}).update(credit_paid=row["n"], credit_paid_on_time=row["on_time"])
    for customer_id, values in facts.items():
        Customer.objects.filter(pk=customer_id).update(**values)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0003_contract_issues"),
        ("customers", "0005_credit"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
