import datetime

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from qiyue.core.errors import filtered
from qiyue.core.money import quantize_money
from qiyue.core.permissions import visible
from qiyue.core.selectors import get_or_404, open_record

from . import events
from .filters import ContractFilter
from .models import Contract, ContractStat, Status

LIVE_STATUSES = (Status.SIGNED, Status.ACTIVE)


def live_contracts() -> QuerySet:
    """Every contract that is not (softly) deleted: the base of every read but the archive's "deleted" view."""
    return Contract.objects.live()


def contract_queryset(*, user) -> QuerySet:
    # Owner and team are prefetched, not joined: joining the small users table lets SQLite's planner
    # start from it and sort every matching contract, instead of walking a newest-first index.
    return visible(user, live_contracts().select_related("customer").prefetch_related("owner", "team"))


def contract_list(*, user, filters=None) -> QuerySet:
    """Contracts `user` may see, narrowed by the shared ContractFilter."""
    qs = contract_queryset(user=user)
    return filtered(ContractFilter(filters or {}, queryset=qs, user=user))


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
    cancelled: a cancelled contract is never in a total) and `signed_total`.
    status counts: [{status, label, count}] in lifecycle order, the statuses the customer has only."""
    rows = (contract_queryset(user=user).filter(customer_id=customer_id).order_by().values("currency", "status")
            .annotate(n=Count("id"), sum=Sum("amount")))
    by_currency: dict[str, dict] = {}
    by_status: dict[str, int] = {}
    for row in rows:
        currency, status, n, amount = row["currency"], row["status"], row["n"], row["sum"] or 0
        by_status[status] = by_status.get(status, 0) + n
        total = by_currency.setdefault(currency, {"currency": currency, "count": 0, "contracted": 0, "total": 0,
                                                  "signed_total": 0})
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
