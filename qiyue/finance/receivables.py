"""Receivables (应收): every installment still owed on the contracts a user may see, as of a day, with
what is derived from it (outstanding, days overdue, aging bucket, the limitation period), the totals per
currency and aging bucket, and the Excel export. As of a past day, an installment counts what had been
received by then: payments received after it, and reversals made after it, are left out."""

import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum, prefetch_related_objects
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from qiyue.contracts.models import UNDATED
from qiyue.contracts.selectors import contract_queryset
from qiyue.core.permissions import visible, visible_parts

from . import money
from .models import Installment, InstallmentStatus, PaymentAllocation, PaymentStatus

LIVE = (InstallmentStatus.OPEN, InstallmentStatus.CLAIM)
BUCKETS = ("overdue", *money.AGING_BUCKETS, "undated")
# Totals are computed for at most this many installments; a wider filter shows the rows without them.
TOTALS_LIMIT = 5000
EXPORT_LIMIT = 50000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Row:
    installment: Installment
    received: Decimal
    outstanding: Decimal
    days_overdue: int
    bucket: str
    limitation: str


@dataclass
class Totals:
    currency: str
    outstanding: Decimal = Decimal("0")
    overdue: Decimal = Decimal("0")
    aging: dict = field(default_factory=lambda: dict.fromkeys(money.AGING_BUCKETS, Decimal("0")))
    count: int | None = 0


def _bucket_q(bucket: str, as_of: datetime.date) -> Q:
    day = datetime.timedelta(days=1)
    if bucket == "overdue":
        return Q(due_date__lt=as_of)
    if bucket == "not_due":
        return Q(due_date__gte=as_of) | Q(due_date__isnull=True)
    if bucket == "undated":
        return Q(due_date__isnull=True)
    bounds = {"d1_30": (1, 30), "d31_60": (31, 60), "d61_90": (61, 90), "over_90": (91, None)}[bucket]
    q = Q(due_date__lte=as_of - bounds[0] * day)
    if bounds[1] is not None:
        q &= Q(due_date__gte=as_of - bounds[1] * day)
    return q


def receivable_rows(*, user, as_of: datetime.date, customer: int | None = None, currency: str = "",
                    bucket: str = "", owner: int | None = None, contract_number: str = "",
                    due_after: datetime.date | None = None, due_before: datetime.date | None = None) -> QuerySet:
    """The installments still owed as of `as_of` on the contracts `user` sees, the oldest due first."""
    owed = Q(received__lt=F("amount"))
    if as_of < timezone.localdate():
        owed |= Q(paid_on__gt=as_of)  # paid in full after the day asked about: still owed on it
    # EXISTS, probed per installment, not `contract IN (the user's contracts)`: that list would be built
    # first (a million ids for finance), where the due-date index walk stops after a page of rows.
    # The scope first, on the owner and team the installment carries (an index per team and per owner),
    # then the contract itself: not deleted, and seen by the user.
    rows = visible(user, Installment.objects.filter(Q(status__in=LIVE) & owed)).filter(Exists(
        contract_queryset(user=user).order_by().filter(pk=OuterRef("contract_id"))))
    if customer is not None:
        rows = rows.filter(contract__customer_id=customer)
    if currency:
        rows = rows.filter(currency=currency)
    if owner is not None:
        rows = rows.filter(contract__owner_id=owner)
    if contract_number:
        rows = rows.filter(contract__number__startswith=contract_number)
    if bucket:
        rows = rows.filter(_bucket_q(bucket, as_of))
    if due_after:
        rows = rows.filter(due_date__gte=due_after)
    if due_before:
        rows = rows.filter(due_date__lte=due_before)
    # No join: the rows are found by walking the due-date index; a page loads its contracts after
    # (`with_contracts`).
    return rows.order_by(F("due_date").asc(nulls_last=True), "pk")


def parts(rows: QuerySet, user) -> list[QuerySet]:
    """`rows` (of `receivable_rows`) in disjoint parts for the paginator (CappedPaginator's parts): per
    status, and per part of the user's scope (their team's, their own elsewhere; see Scope.parts). Each
    is one walk of an index of what is still owed, in due-date order: a page reads only its own rows."""
    # From the rows without the scope's OR (visible_parts): beside it, PostgreSQL misjudged a team's
    # part as a thousand rows and sorted a bitmap of 38,000 instead of walking the team's index (135 ms).
    scoped = visible_parts(user, rows)
    return [part.filter(status=status) for part in scoped for status in LIVE]


def with_contracts(installments: Iterable[Installment]) -> list[Installment]:
    """The installments with their contract, its customer and owner loaded (one query each)."""
    installments = list(installments)
    prefetch_related_objects(installments, "contract__customer", "contract__owner")
    return installments


def received_as_of(installments: Iterable[Installment], as_of: datetime.date, today: datetime.date) -> dict:
    """{installment id: what it had received by the end of `as_of`}."""
    installments = list(installments)
    if as_of >= today:
        return {row.pk: row.received for row in installments}
    sums = (PaymentAllocation.objects.filter(installment__in=[row.pk for row in installments],
                                             payment__received_on__lte=as_of)
            .filter(Q(payment__status=PaymentStatus.RECORDED) | Q(payment__reversed_at__date__gt=as_of))
            .order_by().values("installment_id").annotate(total=Sum("amount")))
    got = {row["installment_id"]: row["total"] for row in sums}
    return {row.pk: got.get(row.pk, Decimal("0")) for row in installments}


def rows_as_of(installments: Iterable[Installment], as_of: datetime.date, today: datetime.date) -> list[Row]:
    installments = list(installments)
    received = received_as_of(installments, as_of, today)
    result = []
    for row in installments:
        got = received[row.pk]
        rest = max(row.amount - got, Decimal("0"))
        if rest <= 0:
            continue
        result.append(Row(row, got, rest, money.days_overdue(row.due_date, as_of),
                          money.aging_bucket(row.due_date, as_of), money.limitation_state(row.due_date, as_of)))
    return result


def totals(rows: QuerySet, as_of: datetime.date, today: datetime.date) -> list[Totals] | None:
    """Per currency: outstanding, overdue and aging of the filtered installments; None when they are more
    than TOTALS_LIMIT (narrow the filter)."""
    # Ids first (an index-only read), then only the money columns of at most TOTALS_LIMIT rows: never a
    # model object with its contract, customer and owner for rows the page does not show.
    ids = list(rows.order_by().values_list("pk", flat=True)[:TOTALS_LIMIT + 1])
    if len(ids) > TOTALS_LIMIT:
        return None
    chunk = Installment.objects.filter(pk__in=ids).only("pk", "amount", "received", "due_date", "currency")
    result: dict[str, Totals] = {}
    for row in rows_as_of(chunk, as_of, today):
        entry = result.setdefault(row.installment.currency, Totals(row.installment.currency))
        entry.count += 1
        entry.outstanding += row.outstanding
        entry.aging[row.bucket] += row.outstanding
        if row.bucket != "not_due":
            entry.overdue += row.outstanding
    return [result[c] for c in sorted(result)]


@dataclass
class Summary:
    """What the contracts a user sees still owe in one currency, as of a day (from ReceivableStat)."""

    currency: str
    outstanding: Decimal
    overdue: Decimal
    aging: dict
    # [(due date, amount, installments)], UNDATED for no due date yet; the days collapsed by aging band
    # and by month (contracts.selectors.aging_band): every day of a band or month adds up under one.
    by_due_date: list


def summary(*, user, today: datetime.date, owner: int | None = None, due_after: datetime.date | None = None,
            due_before: datetime.date | None = None) -> list[Summary]:
    """Per currency, the larger outstanding first: outstanding, overdue and the aging as of `today` of every
    contract `user` sees, from the maintained ReceivableStat rows (one query whatever the number of
    installments; unlike `totals`, never capped)."""
    from qiyue.contracts.selectors import receivables_by_due_date

    result = []
    for currency, rows in receivables_by_due_date(user=user, owner=owner, due_after=due_after,
                                                  due_before=due_before, banded_as_of=today).items():
        aging = dict.fromkeys(money.AGING_BUCKETS, Decimal("0"))
        for due_date, amount, _n in rows:
            aging[money.aging_bucket(None if due_date == UNDATED else due_date, today)] += amount
        outstanding = sum(aging.values(), Decimal("0"))
        result.append(Summary(currency, outstanding, outstanding - aging["not_due"], aging, rows))
    return sorted(result, key=lambda entry: (-entry.outstanding, entry.currency))


STAT_FILTERS = ("owner", "currency", "bucket", "due_after", "due_before")


def stat_totals(*, user, today: datetime.date, owner: int | None = None, currency: str = "", bucket: str = "",
                due_after: datetime.date | None = None, due_before: datetime.date | None = None) -> list[Totals]:
    """`totals` as of today from the maintained ReceivableStat rows, for the filters it keeps (STAT_FILTERS):
    any number of installments, one query. `count` is None (the rows count due dates)."""
    result = []
    for entry in summary(user=user, today=today, owner=owner, due_after=due_after, due_before=due_before):
        if currency and entry.currency != currency:
            continue
        aging = dict(entry.aging)
        if bucket == "undated":
            undated = sum((amount for due, amount, _n in entry.by_due_date if due == UNDATED), Decimal("0"))
            aging = {key: (undated if key == "not_due" else Decimal("0")) for key in aging}
        elif bucket:
            keep = [key for key in aging if key != "not_due"] if bucket == "overdue" else [bucket]
            aging = {key: (amount if key in keep else Decimal("0")) for key, amount in aging.items()}
        outstanding = sum(aging.values(), Decimal("0"))
        if outstanding:
            result.append(Totals(entry.currency, outstanding, outstanding - aging["not_due"], aging, None))
    return sorted(result, key=lambda t: t.currency)


@dataclass
class Equivalent:
    outstanding: Decimal
    overdue: Decimal
    missing: list[str]


def cny_equivalent(totals_: list[Totals] | None, as_of: datetime.date) -> Equivalent | None:
    """The totals in CNY at the rates administrators keep, valid on `as_of` (never by adding currencies
    as they are); the currencies without a rate are named and left out. None for CNY alone."""
    from qiyue.contracts.selectors import cny_rate
    from qiyue.core.money import quantize_money

    if not totals_ or [t.currency for t in totals_] == ["CNY"]:
        return None
    result = Equivalent(Decimal("0"), Decimal("0"), [])
    for entry in totals_:
        rate = cny_rate(entry.currency, on=as_of)
        if rate is None:
            result.missing.append(entry.currency)
            continue
        result.outstanding += quantize_money(entry.outstanding * rate, "CNY")
        result.overdue += quantize_money(entry.overdue * rate, "CNY")
    return result


def xlsx_response(rows: QuerySet, as_of: datetime.date, today: datetime.date) -> HttpResponse:
    labels = {"not_due": _("Not yet due"), "d1_30": _("1–30 days"), "d31_60": _("31–60 days"),
              "d61_90": _("61–90 days"), "over_90": _("Over 90 days")}
    limitation = {"": "", "approaching": _("Limitation period ends within six months"),
                  "expired": _("Limitation period has run")}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Receivables")[:31])
    sheet.append([_("Contract number"), _("Contract"), _("Customer"), _("Owner"), _("No."), _("Due date"),
                  _("Condition"), _("Currency"), _("Amount"), _("Received"), _("Outstanding"), _("Days overdue"),
                  _("Age"), _("Limitation period"), _("As of")])
    start = 0
    while start < EXPORT_LIMIT:
        chunk = with_contracts(rows[start:start + 1000])
        if not chunk:
            break
        for row in rows_as_of(chunk, as_of, today):
            i = row.installment
            sheet.append([i.contract.number, i.contract.title, i.contract.customer.name, str(i.contract.owner),
                          i.position, i.due_date, i.condition, i.currency, i.amount, row.received, row.outstanding,
                          row.days_overdue, str(labels[row.bucket]), str(limitation[row.limitation]), as_of])
        start += 1000
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="receivables-{as_of.isoformat()}.xlsx"'
    return response
