import datetime
from decimal import Decimal

from django.db.models import Case, Count, DateField, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from qiyue.core import tags as tag_vocabulary
from qiyue.core.errors import filtered
from qiyue.core.money import quantize_money
from qiyue.core.permissions import Scope, visible, visible_parts
from qiyue.core.selectors import get_or_404, open_record

from . import events
from .filters import ContractFilter
from .models import (
    UNDATED,
    Contract,
    ContractMonthStat,
    ContractStat,
    ContractTag,
    ExchangeRate,
    MonthMeasure,
    ReceivableStat,
    ReceivableTotal,
    Status,
)

LIVE_STATUSES = (Status.SIGNED, Status.ACTIVE)


def live_contracts() -> QuerySet:
    """Every contract that is not (softly) deleted: the base of every read but the archive's "deleted" view."""
    return Contract.objects.live()


def contract_queryset(*, user) -> QuerySet:
    # Owner and team are prefetched, not joined: joining the small users table lets SQLite's planner
    # start from it and sort every matching contract, instead of walking a newest-first index.
    return visible(user, live_contracts().select_related("customer").prefetch_related("owner", "team"))


def contract_filterset(*, user, filters=None) -> ContractFilter:
    """The shared ContractFilter over the contracts `user` may see (its form is the list's filter form)."""
    return ContractFilter(filters or {}, queryset=contract_queryset(user=user), user=user)


def contract_list(*, user, filters=None) -> QuerySet:
    """Contracts `user` may see, narrowed by the shared ContractFilter."""
    return filtered(contract_filterset(user=user, filters=filters))


# Filters the maintained ContractStat rows can answer for: a list narrowed by only these has its
# totals from those rows, not from summing every matching contract.
STAT_FILTERS = frozenset({"status", "owner", "team"})


def contract_list_totals(*, user, filters=None) -> list[dict]:
    """Per currency, how many contracts the list filtered by `filters` holds (`count`) and their amount
    (`total`; cancelled contracts never count in an amount), the currency with most contracts first."""
    filterset = ContractFilter(filters or {}, queryset=contract_queryset(user=user), user=user)
    contracts = filtered(filterset)
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    used = {name for name, value in data.items() if name != "ordering" and value not in (None, "", [], ())}
    not_cancelled = ~Q(status=Status.CANCELLED)
    if used <= STAT_FILTERS:
        rows = contract_stats(user=user)
        if data.get("status"):
            rows = rows.filter(status__in=data["status"])
        if data.get("owner"):
            rows = rows.filter(owner_id=data["owner"].pk)
        if data.get("team"):
            rows = rows.filter(team_id=data["team"].pk)
        rows = rows.values("currency").annotate(n=Sum("count"), total=Sum("amount", filter=not_cancelled))
    else:
        # Summed per visibility part (see visible_parts): an OR of owner and team leads SQLite to walk
        # an index of the whole table (2.7 s at a million contracts, against 22 ms for the team's part).
        rows = [row for part in visible_parts(user, contracts)
                for row in part.values("currency").annotate(n=Count("id"), total=Sum("amount", filter=not_cancelled))
                .order_by()]
    merged: dict[str, dict] = {}
    for row in rows if isinstance(rows, list) else rows.order_by():
        into = merged.setdefault(row["currency"], {"n": 0, "total": 0})
        into["n"] += row["n"]
        into["total"] += row["total"] or 0
    totals = [{"currency": currency, "count": row["n"], "total": quantize_money(row["total"], currency)}
              for currency, row in merged.items() if row["n"]]
    return sorted(totals, key=lambda row: (-row["count"], row["currency"]))


def contract_get(*, user, pk) -> Contract:
    return get_or_404(contract_queryset(user=user).select_related("parent"), pk)


def contract_open(*, user, pk, may=None, queryset: QuerySet | None = None) -> Contract:
    """The contract opened for reading and its view logged (see qiyue.core.selectors.open_record);
    `queryset` defaults to what `user` may see."""
    if queryset is None:
        queryset = contract_queryset(user=user).select_related("parent")
    return open_record(queryset, pk, user=user, may=may,
                       record_view=lambda contract: events.contract_viewed_event(actor=user, contract=contract))


def contract_supplements(*, user, contract: Contract) -> QuerySet:
    return contract_queryset(user=user).filter(parent=contract).order_by("created_at")


def customer_contracts(*, user, customer_id: int) -> QuerySet:
    return contract_queryset(user=user).filter(customer_id=customer_id).order_by("-created_at")


def contract_stats(*, user) -> QuerySet:
    """The maintained per-team/owner/status/currency counts (see ContractStat), scoped like contracts."""
    return visible(user, ContractStat.objects.all())


def contract_currencies(*, user) -> list[str]:
    """The currencies of the contracts `user` may see (from the maintained counts: a few rows)."""
    return list(contract_stats(user=user).filter(count__gt=0).order_by("currency").values_list("currency", flat=True)
                .distinct())


def contract_tags(*, user, also=()) -> list[str]:
    """The tags of the contracts `user` may see, for the list's pick list (plus `also`)."""
    return tag_vocabulary.names(ContractTag, user=user, also=also)


def contract_month_stats(*, user) -> QuerySet:
    """The maintained per-month counts and sums (see ContractMonthStat), scoped like contracts."""
    return visible(user, ContractMonthStat.objects.all())


def _month_key(day: datetime.date) -> int:
    return day.year * 100 + day.month


def months_around(today: datetime.date, *, back: int = 0, ahead: int = 0) -> list[datetime.date]:
    """The first days of the calendar months from `back` months before `today`'s to `ahead` after."""
    index = today.year * 12 + today.month - 1
    return [datetime.date(i // 12, i % 12 + 1, 1) for i in range(index - back, index + ahead + 1)]


def signed_by_month(*, user, months: list[datetime.date]) -> dict[str, dict[datetime.date, dict]]:
    """{currency: {month: {"count", "amount"}}} of the contracts signed in `months` that `user` may see."""
    rows = (contract_month_stats(user=user)
            .filter(measure=MonthMeasure.SIGNED, month__gte=_month_key(months[0]), month__lte=_month_key(months[-1]))
            .values("month", "currency").annotate(n=Sum("count"), total=Sum("amount")).order_by())
    by_month = {_month_key(month): month for month in months}
    result: dict[str, dict[datetime.date, dict]] = {}
    for row in rows:
        if row["n"]:
            result.setdefault(row["currency"], {})[by_month[row["month"]]] = {
                "count": row["n"], "amount": quantize_money(row["total"], row["currency"])}
    return result


def expiring_by_month(*, user, months: list[datetime.date]) -> dict[datetime.date, int]:
    """{month: count} of the signed and active contracts `user` may see whose expiry date is in `months`."""
    rows = (contract_month_stats(user=user)
            .filter(measure=MonthMeasure.EXPIRING, month__gte=_month_key(months[0]), month__lte=_month_key(months[-1]))
            .values("month").annotate(n=Sum("count")).order_by())
    counts = {row["month"]: row["n"] for row in rows}
    return {month: counts.get(_month_key(month), 0) for month in months}


# The months ahead that `aging_band` keeps apart (the dashboard's "falling due per month" columns).
BAND_MONTHS = 6


def aging_band(as_of: datetime.date, months: int = BAND_MONTHS):
    """A due date collapsed to one day per aging band of `as_of` and per month from `as_of` on (as SQL,
    comparisons only): the band's latest day when overdue (1–30, 31–60, 61–90, over 90 days); when not,
    `as_of` in its own month, the first day of each of the next `months - 1` months, and the first day
    of the month after them for anything later; UNDATED kept. Summed by it, what is owed is a few dozen
    rows, where a sum per due date gave thousands for Python to walk (50 ms at a million contracts)."""
    day = datetime.timedelta(days=1)
    starts = [as_of.replace(day=1)]
    for _ in range(months):
        last = starts[-1]
        starts.append(last.replace(year=last.year + last.month // 12, month=last.month % 12 + 1))
    return Case(
        When(due_date__gte=UNDATED, then=Value(UNDATED)),
        When(due_date__lt=as_of - 90 * day, then=Value(as_of - 91 * day)),
        When(due_date__lt=as_of - 60 * day, then=Value(as_of - 61 * day)),
        When(due_date__lt=as_of - 30 * day, then=Value(as_of - 31 * day)),
        When(due_date__lt=as_of, then=Value(as_of - day)),
        *(When(due_date__lt=following, then=Value(max(start, as_of)))
          for start, following in zip(starts, starts[1:], strict=False)),
        default=Value(starts[-1]),
        output_field=DateField())


def receivables_by_due_date(*, user, owner: int | None = None, due_after: datetime.date | None = None,
                            due_before: datetime.date | None = None, banded_as_of: datetime.date | None = None,
                            ) -> dict[str, list[tuple[datetime.date, Decimal, int]]]:
    """{currency: [(due date, still owed, installments), ...] in date order} of what the contracts `user` may
    see still owe, from the maintained ReceivableStat rows (one query, a few thousand rows at most: one per
    due date and currency, whatever the number of installments). Owed without a due date: under UNDATED.
    With `banded_as_of`, the due dates are collapsed by `aging_band` of that day: a few dozen rows."""
    if owner is None and Scope.of(user).sees_all:
        stats = ReceivableTotal.objects.all()  # the same sums without team and owner: fewer rows
    else:
        stats = visible(user, ReceivableStat.objects.all())
    if owner is not None:
        stats = stats.filter(owner_id=owner)
    if due_after or due_before:  # a range of days: nothing without a due date
        stats = stats.filter(due_date__lt=UNDATED)
        if due_after:
            stats = stats.filter(due_date__gte=due_after)
        if due_before:
            stats = stats.filter(due_date__lte=due_before)
    if banded_as_of is not None:
        stats = stats.annotate(day=aging_band(banded_as_of))
    else:
        stats = stats.annotate(day=F("due_date"))
    rows = (stats.order_by().values("currency", "day")
            .annotate(total=Sum("amount"), n=Sum("count")).filter(n__gt=0).order_by("currency", "day"))
    result: dict[str, list] = {}
    for row in rows:
        amount = quantize_money(row["total"], row["currency"])
        if amount > 0:
            result.setdefault(row["currency"], []).append((row["day"], amount, row["n"]))
    return result


def contract_status_counts(*, user) -> dict[str, int]:
    rows = contract_stats(user=user).values("status").annotate(n=Sum("count")).order_by()
    counts = {status: 0 for status in Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def contracts_expiring(*, user, days: int, today: datetime.date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return contract_queryset(user=user).filter(
        status__in=LIVE_STATUSES, expiry_date__gte=today, expiry_date__lte=today + datetime.timedelta(days=days),
    ).order_by("expiry_date")


def contract_amount_totals(*, user) -> list[dict]:
    rows = (contract_stats(user=user).filter(status__in=LIVE_STATUSES).values("currency")
            .annotate(total=Sum("amount"), n=Sum("count")).filter(n__gt=0).order_by("-total"))
    return [{**row, "total": quantize_money(row["total"], row["currency"])} for row in rows]


# Contracts that were signed at some point: they count as contracted value.
SIGNED_STATUSES = (Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED, Status.TERMINATED)


def customer_contract_summary(*, user, customer_id: int) -> tuple[list[dict], list[dict]]:
    """(totals, status counts) of the customer's contracts `user` may see (so a total never reveals a
    hidden contract), from one query grouped by currency and status.

    totals: per currency, `count` (every status), `contracted` and `total` (the contracts and amount not
    cancelled: a cancelled contract is never in a total), `signed_total`, and the money: `invoiced`,
    `received`, `outstanding` and `overdue` (as of today).
    status counts: [{status, label, count}] in lifecycle order, the statuses the customer has only."""
    visible_rows = contract_queryset(user=user).filter(customer_id=customer_id).order_by()
    # COUNT(*), not COUNT(id): PostgreSQL then reads only the customer's money index (the id is not in
    # it; a heap fetch of each of the biggest customer's 10,008 contracts took 29 ms, the index 9 ms).
    rows = visible_rows.values("currency", "status").annotate(
        n=Count("*"), sum=Sum("amount"), received=Sum("received_amount"), outstanding=Sum("outstanding_amount"),
        invoiced=Sum("invoiced_amount"))
    today = timezone.localdate()
    overdue: dict[str, Decimal] = {}
    for currency, schedule in visible_rows.filter(unpaid_since__lt=today).values_list("currency", "unpaid_schedule"):
        day = today.isoformat()
        overdue[currency] = overdue.get(currency, Decimal(0)) + sum(
            (Decimal(owed) for due, owed in schedule if due < day), Decimal(0))
    by_currency: dict[str, dict] = {}
    by_status: dict[str, int] = {}
    for row in rows:
        currency, status, n, amount = row["currency"], row["status"], row["n"], row["sum"] or 0
        by_status[status] = by_status.get(status, 0) + n
        total = by_currency.setdefault(currency, {"currency": currency, "count": 0, "contracted": 0, "total": 0,
                                                  "signed_total": 0, "received": 0, "outstanding": 0, "invoiced": 0,
                                                  "overdue": overdue.get(currency, Decimal(0))})
        total["received"] += row["received"] or 0
        total["invoiced"] += row["invoiced"] or 0
        total["outstanding"] += row["outstanding"] or 0
        total["count"] += n
        if status != Status.CANCELLED:
            total["contracted"] += n
            total["total"] += amount
        if status in SIGNED_STATUSES:
            total["signed_total"] += amount
    totals = [{**row, "total": quantize_money(row["total"], row["currency"]),
               "signed_total": quantize_money(row["signed_total"], row["currency"])}
              for _currency, row in sorted(by_currency.items())]
    statuses = [{"status": value, "label": label, "count": by_status[value]} for value, label in Status.choices
                if by_status.get(value)]
    return totals, statuses


def cny_rate(currency: str, *, on: datetime.date | None = None):
    """CNY per unit of `currency` on the day `on` (today), from the rates administrators keep; None
    when there is none yet."""
    if currency == "CNY":
        return Decimal(1)
    return (ExchangeRate.objects.filter(currency=currency, valid_from__lte=on or timezone.localdate())
            .order_by("-valid_from").values_list("rate", flat=True).first())


def amount_in_cny(contract: Contract, *, on: datetime.date | None = None):
    rate = cny_rate(contract.currency, on=on)
    return None if rate is None else quantize_money(contract.amount * rate, "CNY")


def exchange_rates() -> QuerySet:
    return ExchangeRate.objects.order_by("currency", "-valid_from")
