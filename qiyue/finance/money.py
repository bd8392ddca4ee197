"""Money math of execution: payment schedules, allocation of payments, plan gaps, tax, receivables
totals and aging, the limitation period. Pure functions over `Decimal` amounts and dates, no database
access (the services and selectors feed them rows); tested on their own (tests/test_money.py).

Amounts are `Decimal` with a currency; rounding is the currency's minor unit (`qiyue.core.money`);
totals never add different currencies: they are dicts keyed by currency.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from qiyue.core.money import quantize_money

ZERO = Decimal("0")

# Aging buckets (账龄), in order: not yet due, then days past due.
AGING_BUCKETS = ("not_due", "d1_30", "d31_60", "d61_90", "over_90")

# PRC Civil Code art. 188: the general limitation period (诉讼时效) is three years from the day the
# creditor knew or should have known of the harm, for a receivable its due date.
LIMITATION_YEARS = 3
# Flag a receivable this many days before its limitation period ends.
LIMITATION_WARNING_DAYS = 180


def split_evenly(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    """`total` in `parts` installments of the currency's minor unit that add up to it exactly; the
    rounding difference goes to the last one (100.00 in 3: 33.33, 33.33, 33.34)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    each = quantize_money(total / parts, currency)
    amounts = [each] * (parts - 1)
    amounts.append(quantize_money(total, currency) - each * (parts - 1))
    return amounts


def split_by_shares(total: Decimal, shares: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`total` split by percentage shares (30, 60, 10) that add up to 100; the last one takes the
    rounding difference, so the amounts add up to `total` exactly."""
    if not shares or sum(shares) != 100 or any(s <= 0 for s in shares):
        raise ValueError("shares must be positive and add up to 100")
    total = quantize_money(total, currency)
    amounts = [quantize_money(total * share / 100, currency) for share in shares[:-1]]
    amounts.append(total - sum(amounts, ZERO))
    return amounts


def add_days(day: datetime.date | None, days: int) -> datetime.date | None:
    """A conditional installment's due date: `days` after the milestone's completion."""
    return None if day is None else day + datetime.timedelta(days=days)


def plan_gap(contract_amount: Decimal, planned: Iterable[Decimal]) -> Decimal:
    """What the payment plan leaves unplanned (positive) or plans beyond the contract (negative)."""
    return contract_amount - sum(planned, ZERO)


@dataclass(frozen=True)
class OpenItem:
    """An installment that can take money: its id, due date (None: not yet known) and what is still owed."""

    key: int
    due_date: datetime.date | None
    position: int
    outstanding: Decimal


def oldest_first(items: Iterable[OpenItem]) -> list[OpenItem]:
    """Installments in the order a payment pays them: by due date (unknown dates last), then position."""
    return sorted(items, key=lambda i: (i.due_date is None, i.due_date or datetime.date.max, i.position, i.key))


@dataclass(frozen=True)
class Allocation:
    allocations: dict[int, Decimal]  # installment key → amount
    unallocated: Decimal  # what no installment owes: refused, or kept as an advance (预收)


class AllocationError(ValueError):
    """A manual allocation that cannot be: `key` names the installment (None: the whole allocation)."""

    def __init__(self, reason: str, key: int | None = None):
        self.reason, self.key = reason, key
        super().__init__(reason)


def allocate(amount: Decimal, items: Iterable[OpenItem], manual: Mapping[int, Decimal] | None = None) -> Allocation:
    """Spread a payment of `amount` over the open installments: oldest first by default, or as
    `manual` says (installment key → amount; each at most what that installment still owes, and
    together at most `amount`). What is left is `unallocated`.

    Raises AllocationError for a manual allocation naming an installment that is not open
    ("unknown"), a non-positive amount ("not_positive"), more than an installment owes
    ("over_installment") or more than the payment ("over_payment")."""
    open_items = {item.key: item for item in items}
    allocations: dict[int, Decimal] = {}
    if manual:
        for key, part in manual.items():
            if key not in open_items:
                raise AllocationError("unknown", key)
            if part <= 0:
                raise AllocationError("not_positive", key)
            if part > open_items[key].outstanding:
                raise AllocationError("over_installment", key)
            allocations[key] = part
        if sum(allocations.values(), ZERO) > amount:
            raise AllocationError("over_payment")
    else:
        rest = amount
        for item in oldest_first(open_items.values()):
            if rest <= 0:
                break
            part = min(rest, item.outstanding)
            if part > 0:
                allocations[item.key] = part
                rest -= part
    return Allocation(allocations, amount - sum(allocations.values(), ZERO))


@dataclass(frozen=True)
class TaxSplit:
    excluding_tax: Decimal
    tax: Decimal
    total: Decimal


def tax_from_excluding(excluding_tax: Decimal, rate_percent: Decimal, currency: str) -> TaxSplit:
    """An invoice line from its amount excluding tax (不含税金额) and the rate: the tax rounded to the
    minor unit, the total their sum."""
    excluding_tax = quantize_money(excluding_tax, currency)
    tax = quantize_money(excluding_tax * rate_percent / 100, currency)
    return TaxSplit(excluding_tax, tax, excluding_tax + tax)


def tax_from_total(total: Decimal, rate_percent: Decimal, currency: str) -> TaxSplit:
    """An invoice line from its total including tax (价税合计): the amount excluding tax is the total
    divided by 1 + rate, rounded; the tax is the rest, so the three always agree."""
    total = quantize_money(total, currency)
    excluding = quantize_money(total / (1 + rate_percent / 100), currency)
    return TaxSplit(excluding, total - excluding, total)


def outstanding(amount: Decimal, received: Decimal) -> Decimal:
    return max(amount - received, ZERO)


def is_overdue(due_date: datetime.date | None, amount: Decimal, received: Decimal, as_of: datetime.date) -> bool:
    """Overdue is derived, never stored: due before `as_of` and not fully received."""
    return due_date is not None and due_date < as_of and received < amount


def days_overdue(due_date: datetime.date | None, as_of: datetime.date) -> int:
    return max((as_of - due_date).days, 0) if due_date is not None else 0


def aging_bucket(due_date: datetime.date | None, as_of: datetime.date) -> str:
    """The aging bucket of an amount due on `due_date`, seen on `as_of` (an unknown date is not due)."""
    days = days_overdue(due_date, as_of)
    if days == 0:
        return "not_due"
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "over_90"


@dataclass(frozen=True)
class Receivable:
    """One installment as the reports see it."""

    currency: str
    due_date: datetime.date | None
    amount: Decimal
    received: Decimal


def aging(rows: Iterable[Receivable], as_of: datetime.date) -> dict[str, dict[str, Decimal]]:
    """Outstanding amounts per currency and aging bucket as of `as_of`: {currency: {bucket: amount}},
    every bucket present (zero when empty), currencies never added together."""
    table: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        rest = outstanding(row.amount, row.received)
        if rest <= 0:
            continue
        buckets = table.setdefault(row.currency, dict.fromkeys(AGING_BUCKETS, ZERO))
        buckets[aging_bucket(row.due_date, as_of)] += rest
    return table


class CurrencyMismatch(ValueError):
    """Amounts of different currencies were about to be added as if they were the same money."""


def total(rows: Iterable[tuple[str, Decimal]], currency: str) -> Decimal:
    """The sum of (currency, amount) pairs that must all be in `currency`; one in another currency is
    refused (CurrencyMismatch), never added: 100 USD and 100 CNY are not 200 of anything."""
    result = ZERO
    for row_currency, amount in rows:
        if row_currency != currency:
            raise CurrencyMismatch(f"{row_currency} amount in a {currency} total")
        result += amount
    return result


def totals_by_currency(rows: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """(currency, amount) pairs summed per currency, in the order the currencies first appear."""
    totals: dict[str, Decimal] = {}
    for currency, amount in rows:
        totals[currency] = totals.get(currency, ZERO) + amount
    return totals


def limitation_ends(due_date: datetime.date) -> datetime.date:
    """The last day of the three-year limitation period of an amount due on `due_date` (29 February
    falls back to 28 February in a year without it)."""
    try:
        return due_date.replace(year=due_date.year + LIMITATION_YEARS)
    except ValueError:
        return due_date.replace(year=due_date.year + LIMITATION_YEARS, day=28)


def limitation_state(due_date: datetime.date | None, as_of: datetime.date,
                     warning_days: int = LIMITATION_WARNING_DAYS) -> str:
    """"" (not overdue or far from it), "approaching" (within `warning_days` of the end) or "expired"
    (the period has run: the claim needs an interruption such as a written demand to be enforceable)."""
    if due_date is None or due_date >= as_of:
        return ""
    ends = limitation_ends(due_date)
    if as_of > ends:
        return "expired"
    if (ends - as_of).days <= warning_days:
        return "approaching"
    return ""


def on_time_share(paid: Iterable[tuple[datetime.date | None, datetime.date | None]]) -> float | None:
    """The share of fully paid installments that were paid by their due date: (due date, paid on)
    pairs; None when there are none to judge."""
    judged = [(due, paid_on) for due, paid_on in paid if due is not None and paid_on is not None]
    if not judged:
        return None
    return sum(1 for due, paid_on in judged if paid_on <= due) / len(judged)
