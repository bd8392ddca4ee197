"""The money totals a contract row keeps for lists (`Contract.received_amount`, `outstanding_amount`,
`invoiced_amount`, `unpaid_since`, `unpaid_schedule`): recomputed from the contract's installments and payments by every
money write, in its transaction and under the contract's lock, and checked by `qiyue finance check`."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum

from qiyue.contracts.models import UNDATED, Contract, ReceivableStat, ReceivableTotal
from qiyue.customers.models import Customer

from . import money
from .models import Installment, InstallmentStatus, Invoice, InvoiceStatus, Payment, PaymentStatus

LIVE = (InstallmentStatus.OPEN, InstallmentStatus.CLAIM)
FIELDS = ("received_amount", "outstanding_amount", "invoiced_amount", "unpaid_since", "unpaid_schedule")


def computed(contract_id: int) -> dict:
    """What the totals of one contract must be, from its rows."""
    currency = Contract.objects.filter(pk=contract_id).values_list("currency", flat=True).first()
    # Summed per currency by the database, then added only within the contract's (a row in another
    # currency is refused, never added).
    received = money.total(Payment.objects.filter(contract_id=contract_id, status=PaymentStatus.RECORDED)
                           .order_by().values("currency").annotate(total=Sum("amount"))
                           .values_list("currency", "total"), currency)
    # Issued invoices count, red-letter ones against them; the database sums each side per currency.
    invoiced = Decimal("0.00")
    for red, rows in ((False, True), (True, False)):
        part = money.total(Invoice.objects.filter(contract_id=contract_id, status=InvoiceStatus.ISSUED,
                                                  reverses__isnull=rows)
                           .order_by().values("currency").annotate(total=Sum("total"))
                           .values_list("currency", "total"), currency)
        invoiced += -part if red else part
    schedule = []
    outstanding = Decimal("0.00")
    for due, amount, got, row_currency in (Installment.objects.filter(contract_id=contract_id, status__in=LIVE)
                                           .values_list("due_date", "amount", "received", "currency")):
        if row_currency != currency:
            raise money.CurrencyMismatch(f"{row_currency} installment of a {currency} contract")
        rest = amount - got
        if rest <= 0:
            continue
        outstanding += rest
        if due is not None:
            schedule.append([due.isoformat(), str(rest)])
    schedule.sort()
    return {
        "received_amount": received.quantize(Decimal("0.01")),
        "outstanding_amount": outstanding.quantize(Decimal("0.01")),
        "invoiced_amount": invoiced.quantize(Decimal("0.01")),
        "unpaid_since": min((d for d, _owed in schedule), default=None),
        "unpaid_schedule": schedule,
    }


def keep(contract: Contract) -> None:
    """Store the contract's totals (the caller holds the contract's lock), then its customer's payment
    behaviour. The contract's `version` is not bumped: a payment is no edit of the contract, and an open
    edit page must still save."""
    values = computed(contract.pk)
    Contract.objects.filter(pk=contract.pk).update(**values)
    for name, value in values.items():
        setattr(contract, name, value)
    keep_customer(contract.customer_id)


CUSTOMER_FIELDS = ("credit_overdue_since", "credit_paid", "credit_paid_on_time")


def customer_computed(customer_id: int) -> dict:
    """A customer's payment behaviour from its contracts' totals and installments (qiyue.customers.credit)."""
    since = (Contract.objects.filter(customer_id=customer_id, deleted_at__isnull=True, unpaid_since__isnull=False)
             .order_by().aggregate(m=Min("unpaid_since"))["m"])
    paid = (Installment.objects.filter(contract__customer_id=customer_id, contract__deleted_at__isnull=True,
                                       paid_on__isnull=False)
            .order_by().aggregate(n=Count("id"), on_time=Count("id", filter=Q(paid_on__lte=F("due_date")))))
    return {"credit_overdue_since": since, "credit_paid": paid["n"] or 0, "credit_paid_on_time": paid["on_time"] or 0}


def keep_customer(customer_id: int) -> None:
    """Store the customer's payment behaviour. The customer's row is locked first, so two payments on two of
    its contracts at once count each other (the second waits, then reads what the first committed)."""
    list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk", flat=True))
    Customer.objects.filter(pk=customer_id).update(**customer_computed(customer_id))


def customer_differences(*, batch: int = 2000) -> Iterable[tuple[int, dict]]:
    """(customer id, {field: [stored, computed]}) of every customer whose stored behaviour differs."""
    last = 0
    while True:
        chunk = list(Customer.objects.order_by("pk").filter(pk__gt=last).values("pk", *CUSTOMER_FIELDS)[:batch])
        if not chunk:
            return
        for row in chunk:
            want = customer_computed(row["pk"])
            diff = {name: [row[name], want[name]] for name in CUSTOMER_FIELDS if row[name] != want[name]}
            if diff:
                yield row["pk"], diff
        last = chunk[-1]["pk"]


def _stored(row: dict) -> dict:
    since = row["unpaid_since"]
    return {
        "received_amount": row["received_amount"], "outstanding_amount": row["outstanding_amount"],
        "invoiced_amount": row["invoiced_amount"],
        "unpaid_since": since.isoformat() if since else None, "unpaid_schedule": row["unpaid_schedule"] or [],
    }


def differences(contract_ids: Iterable[int] | None = None, *, batch: int = 2000) -> Iterable[tuple[int, dict]]:
    """(contract id, {field: [stored, computed]}) of every contract whose stored totals differ."""
    rows = Contract.objects.order_by("pk").values("pk", *FIELDS)
    if contract_ids is not None:
        rows = rows.filter(pk__in=list(contract_ids))
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:batch])
        if not chunk:
            return
        for row in chunk:
            want = computed(row["pk"])
            have = _stored(row)
            diff = {name: [have[name], want[name]] for name in FIELDS if have[name] != want[name]}
            if diff:
                yield row["pk"], diff
        last = chunk[-1]["pk"]


def receivable_stat_differences() -> list[tuple[tuple, list]]:
    """((team, owner, currency, due date), [stored, computed]) of every ReceivableStat key whose amount or count
    differs from a recomputation from the installments (the triggers keep it from the contracts' totals, so
    a difference there shows here too). Grouped by the database: a few thousand keys, not a row per
    installment."""
    stored = {}
    for row in ReceivableStat.objects.order_by().values("team_id", "owner_id", "currency", "due_date").annotate(
            total=Sum("amount"), n=Sum("count")):
        if row["n"] or abs(row["total"] or 0) >= Decimal("0.005"):
            stored[(row["team_id"], row["owner_id"], row["currency"], row["due_date"])] = [
                Decimal(row["total"] or 0).quantize(Decimal("0.01")), row["n"]]
    wanted: dict[tuple, list] = {}
    rows = (Installment.objects.filter(status__in=LIVE, received__lt=F("amount"), contract__deleted_at__isnull=True)
            .order_by().values("contract__team_id", "contract__owner_id", "contract__currency", "due_date")
            .annotate(total=Sum(F("amount") - F("received")), n=Count("id")))
    for row in rows:
        due = row["due_date"]
        key = (row["contract__team_id"] or 0, row["contract__owner_id"], row["contract__currency"], due or UNDATED)
        entry = wanted.setdefault(key, [Decimal("0.00"), 0])
        entry[0] += Decimal(row["total"]).quantize(Decimal("0.01"))
        # Undated amounts are kept per contract, not per installment.
        entry[1] += row["n"] if due else 0
    if any(key[3] == UNDATED for key in wanted):
        undated = (Installment.objects.filter(status__in=LIVE, received__lt=F("amount"), due_date__isnull=True,
                                              contract__deleted_at__isnull=True)
                   .order_by().values("contract__team_id", "contract__owner_id", "contract__currency")
                   .annotate(n=Count("contract_id", distinct=True)))
        for row in undated:
            wanted[(row["contract__team_id"] or 0, row["contract__owner_id"], row["contract__currency"], UNDATED)][1] \
                = row["n"]
    # The same without team and owner (ReceivableTotal), keyed ("all", currency, due date).
    for row in ReceivableTotal.objects.order_by().values("currency", "due_date", "amount", "count"):
        if row["count"] or abs(row["amount"] or 0) >= Decimal("0.005"):
            stored[("all", row["currency"], row["due_date"])] = [
                Decimal(row["amount"] or 0).quantize(Decimal("0.01")), row["count"]]
    for (_team, _owner, currency, due), (amount, n) in list(wanted.items()):
        entry = wanted.setdefault(("all", currency, due), [Decimal("0.00"), 0])
        entry[0] += amount
        entry[1] += n
    return [(key, [stored.get(key), wanted.get(key)]) for key in sorted(set(stored) | set(wanted), key=str)
            if stored.get(key) != wanted.get(key)]
