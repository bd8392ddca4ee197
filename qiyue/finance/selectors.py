"""Reads of execution and money: a contract's plan, payments and obligations with what is derived
from them as of a date (outstanding, overdue, aging, late), scoped to what the user may see."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from qiyue.contracts.models import Contract
from qiyue.contracts.selectors import contract_queryset

from . import money
from .models import (
    ContractIssue,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceStatus,
    IssueStatus,
    Obligation,
    ObligationStatus,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    PaymentStatus,
)

LIVE = (InstallmentStatus.OPEN, InstallmentStatus.CLAIM)


def _today() -> datetime.date:
    return timezone.localdate()


@dataclass
class InstallmentRow:
    installment: Installment
    outstanding: Decimal
    overdue: bool
    days_overdue: int
    bucket: str
    limitation: str


@dataclass
class ContractMoney:
    """A contract's money as of a date. Amounts are in the contract's currency (a contract has one)."""

    currency: str
    contracted: Decimal
    plan: PaymentPlan | None
    rows: list[InstallmentRow] = field(default_factory=list)
    cancelled: list[Installment] = field(default_factory=list)
    planned: Decimal = Decimal("0")
    unplanned: Decimal = Decimal("0")
    received: Decimal = Decimal("0")
    advance: Decimal = Decimal("0")
    outstanding: Decimal = Decimal("0")
    overdue: Decimal = Decimal("0")
    aging: dict[str, Decimal] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    invoiced: Decimal = Decimal("0")
    invoice_requested: Decimal = Decimal("0")
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def uninvoiced(self) -> Decimal:
        return self.contracted - self.invoiced

    @property
    def received_share(self) -> int:
        """Received of contracted, in whole percent (0 for a contract without an amount)."""
        if self.contracted <= 0:
            return 0
        return min(100, int(self.received * 100 / self.contracted))


def contract_money(*, contract: Contract, as_of: datetime.date | None = None) -> ContractMoney:
    as_of = as_of or _today()
    summary = ContractMoney(currency=contract.currency, contracted=contract.amount,
                            plan=PaymentPlan.objects.filter(contract=contract).first())
    receivables = []
    for row in Installment.objects.filter(contract=contract).select_related("obligation").order_by("position"):
        if row.status not in LIVE:
            summary.cancelled.append(row)
            continue
        rest = row.outstanding
        summary.rows.append(InstallmentRow(
            installment=row, outstanding=rest,
            overdue=money.is_overdue(row.due_date, row.amount, row.received, as_of),
            days_overdue=money.days_overdue(row.due_date, as_of) if rest > 0 else 0,
            bucket=money.aging_bucket(row.due_date, as_of) if rest > 0 else "",
            limitation=money.limitation_state(row.due_date, as_of) if rest > 0 else ""))
        receivables.append(money.Receivable(row.currency, row.due_date, row.amount, row.received))
        summary.planned += row.amount
        summary.outstanding += rest
        if summary.rows[-1].overdue:
            summary.overdue += rest
    summary.unplanned = money.plan_gap(contract.amount, [r.installment.amount for r in summary.rows])
    summary.aging = money.aging(receivables, as_of).get(contract.currency, dict.fromkeys(money.AGING_BUCKETS,
                                                                                       Decimal("0")))
    summary.payments = list(
        Payment.objects.filter(contract=contract).select_related("created_by", "reversed_by")
        .prefetch_related(Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("installment")
                                   .order_by("installment__position")))
        .order_by("-received_on", "-id"))
    for payment in summary.payments:
        if payment.status == PaymentStatus.RECORDED:
            summary.received += payment.amount
            summary.advance += payment.advance
    summary.invoices = list(Invoice.objects.filter(contract=contract)
                            .select_related("reverses", "installment", "requested_by", "issued_by")
                            .order_by("-created_at", "-id"))
    for invoice in summary.invoices:
        if invoice.status == InvoiceStatus.ISSUED:
            summary.invoiced += invoice.signed_total
        elif invoice.status == InvoiceStatus.REQUESTED:
            summary.invoice_requested += invoice.total
    return summary


@dataclass
class ObligationRow:
    obligation: Obligation
    late: bool
    days_late: int


def contract_obligations(*, contract: Contract, as_of: datetime.date | None = None) -> list[ObligationRow]:
    """The contract's obligations, open ones first by due date; "late" derived from today."""
    as_of = as_of or _today()
    rows = []
    for obligation in (Obligation.objects.filter(contract=contract).select_related("owner", "evidence")
                       .order_by("due_date", "id")):
        late = (obligation.status == ObligationStatus.OPEN and obligation.due_date is not None
                and obligation.due_date < as_of)
        rows.append(ObligationRow(obligation, late, (as_of - obligation.due_date).days if late else 0))
    order = {ObligationStatus.OPEN: 0, ObligationStatus.DONE: 1, ObligationStatus.WAIVED: 2,
             ObligationStatus.CANCELLED: 3}
    rows.sort(key=lambda r: order.get(r.obligation.status, 9))
    return rows


def obligation_progress(rows: list[ObligationRow]) -> tuple[int, int]:
    """(done, counted): done of all that still count (waived and cancelled ones do not)."""
    counted = [r for r in rows if r.obligation.status in (ObligationStatus.OPEN, ObligationStatus.DONE)]
    return sum(1 for r in counted if r.obligation.status == ObligationStatus.DONE), len(counted)



def payments_of(*, user) -> QuerySet:
    """Payments on the contracts the user may see."""
    return Payment.objects.filter(contract__in=contract_queryset(user=user).values("pk"))



def obligations_of(*, user) -> QuerySet:
    return Obligation.objects.filter(contract__in=contract_queryset(user=user).values("pk"))


def invoices_of(*, user) -> QuerySet:
    """Invoices of the contracts the user may see."""
    return Invoice.objects.filter(contract__in=contract_queryset(user=user).values("pk"))


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def contract_issues(*, contract: Contract) -> list[ContractIssue]:
    """The contract's issues and risks: open ones first, the most severe first, then the newest."""
    rows = list(ContractIssue.objects.filter(contract=contract).select_related("owner", "created_by"))
    rows.sort(key=lambda r: (r.status != IssueStatus.OPEN, SEVERITY_ORDER.get(r.severity, 9), -r.pk))
    return rows


def issues_of(*, user) -> QuerySet:
    """Issues and risks of the contracts the user may see."""
    return ContractIssue.objects.filter(contract__in=contract_queryset(user=user).values("pk"))
