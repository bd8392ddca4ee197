from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from qiyue.contracts.models import Contract
from qiyue.contracts.stat_triggers import install_stat_triggers
from qiyue.finance import totals


class Command(BaseCommand):
    help = ("Check each contract's money totals against its installments and payments. 'finance check' "
            "recomputes what lists sort by (received, outstanding, the oldest unpaid due date), lists every "
            "difference and exits 1 when there is one; with --fix it stores the recomputed totals. Customers' "
            "payment behaviour (their credit indicator's facts) and the receivables by due date (the dashboard's "
            "aging) are checked the same way.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"])
        parser.add_argument("--fix", action="store_true", help="store the recomputed totals")

    def handle(self, *args, action, fix, **options):
        found = 0
        for contract_id, diff in totals.differences():
            found += 1
            details = "; ".join(f"{name}: {have} → {want}" for name, (have, want) in diff.items())
            self.stdout.write(f"contract {contract_id}: {details}")
            if fix:
                with transaction.atomic():
                    contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract_id)
                    totals.keep(contract)
        for customer_id, diff in totals.customer_differences():
            found += 1
            details = "; ".join(f"{name}: {have} → {want}" for name, (have, want) in diff.items())
            self.stdout.write(f"customer {customer_id}: {details}")
            if fix:
                with transaction.atomic():
                    totals.keep_customer(customer_id)
        stats = totals.receivable_stat_differences()
        for key, (have, want) in stats:
            found += 1
            self.stdout.write(f"receivables by due date {'/'.join(str(part) for part in key)}: {have} → {want}")
        if stats and fix:
            install_stat_triggers()  # rebuilds every maintained statistic from the contract rows
        if not found:
            self.stdout.write("OK: every contract's money totals match its installments and payments, every "
                              "customer's payment behaviour its contracts', and the receivables by due date "
                              "the installments.")
            return
        if fix:
            self.stdout.write(f"Fixed {found} contract(s).")
            return
        raise CommandError(f"{found} contract(s) or customer(s) with money totals that differ (run with --fix to "
                           "store them).")
