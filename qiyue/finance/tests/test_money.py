"""The pure money math: no database, no Django models."""

import datetime
from decimal import Decimal

import pytest

from qiyue.finance import money

D = Decimal
day = datetime.date


def test_split_evenly_adds_up_exactly_with_the_rest_on_the_last():
    assert money.split_evenly(D("100.00"), 3, "CNY") == [D("33.33"), D("33.33"), D("33.34")]
    assert money.split_evenly(D("1000"), 3, "JPY") == [D("333"), D("333"), D("334")]
    assert sum(money.split_evenly(D("0.05"), 4, "CNY")) == D("0.05")
    with pytest.raises(ValueError):
        money.split_evenly(D("1"), 0, "CNY")


def test_split_by_shares():
    assert money.split_by_shares(D("99999.99"), [D(30), D(60), D(10)], "CNY") == [D("30000.00"), D("59999.99"),
                                                                                    D("10000.00")]
    for bad in ([], [D(50), D(40)], [D(110), D(-10)]):
        with pytest.raises(ValueError):
            money.split_by_shares(D("100"), bad, "CNY")


def test_plan_gap():
    assert money.plan_gap(D("100"), [D("30"), D("50")]) == D("20")
    assert money.plan_gap(D("100"), [D("60"), D("50")]) == D("-10")
    assert money.plan_gap(D("100"), []) == D("100")


def items():
    return [
        money.OpenItem(1, day(2026, 3, 1), 2, D("300")),
        money.OpenItem(2, day(2026, 1, 1), 1, D("100")),
        money.OpenItem(3, None, 3, D("500")),
        money.OpenItem(4, day(2026, 3, 1), 1, D("50")),
    ]


def test_oldest_first_orders_by_date_then_position_unknown_dates_last():
    assert [i.key for i in money.oldest_first(items())] == [2, 4, 1, 3]


def test_allocate_oldest_first_and_the_rest():
    split = money.allocate(D("200"), items())
    assert split.allocations == {2: D("100"), 4: D("50"), 1: D("50")}
    assert split.unallocated == 0
    split = money.allocate(D("1000"), items())
    assert sum(split.allocations.values()) == D("950") and split.unallocated == D("50")
    assert money.allocate(D("10"), []).unallocated == D("10")


def test_allocate_manually():
    split = money.allocate(D("400"), items(), {3: D("150"), 1: D("200")})
    assert split.allocations == {3: D("150"), 1: D("200")} and split.unallocated == D("50")
    for manual, reason in (({9: D("1")}, "unknown"), ({1: D("0")}, "not_positive"),
                           ({2: D("101")}, "over_installment"), ({1: D("300"), 3: D("200")}, "over_payment")):
        with pytest.raises(money.AllocationError) as caught:
            money.allocate(D("400"), items(), manual)
        assert caught.value.reason == reason


def test_tax_both_ways_always_agree():
    split = money.tax_from_excluding(D("10000"), D("13"), "CNY")
    assert (split.excluding_tax, split.tax, split.total) == (D("10000.00"), D("1300.00"), D("11300.00"))
    split = money.tax_from_total(D("11300"), D("13"), "CNY")
    assert (split.excluding_tax, split.tax, split.total) == (D("10000.00"), D("1300.00"), D("11300.00"))
    split = money.tax_from_total(D("100.00"), D("6"), "CNY")
    assert split.excluding_tax == D("94.34") and split.tax == D("5.66") and split.excluding_tax + split.tax == split.total
    assert money.tax_from_excluding(D("999"), D("3"), "JPY").tax == D("30")


def test_overdue_is_derived_from_the_date():
    assert money.is_overdue(day(2026, 1, 1), D("100"), D("0"), day(2026, 1, 2))
    assert not money.is_overdue(day(2026, 1, 1), D("100"), D("0"), day(2026, 1, 1))
    assert not money.is_overdue(day(2026, 1, 1), D("100"), D("100"), day(2026, 6, 1))
    assert not money.is_overdue(None, D("100"), D("0"), day(2026, 6, 1))


@pytest.mark.parametrize(("due", "bucket"), [
    (day(2026, 6, 1), "not_due"), (day(2026, 5, 31), "not_due"), (day(2026, 5, 30), "d1_30"),
    (day(2026, 5, 1), "d1_30"), (day(2026, 4, 30), "d31_60"), (day(2026, 4, 1), "d31_60"),
    (day(2026, 3, 31), "d61_90"), (day(2026, 3, 2), "d61_90"), (day(2026, 3, 1), "over_90"), (None, "not_due"),
])
def test_aging_buckets_at_their_boundaries(due, bucket):
    assert money.aging_bucket(due, day(2026, 5, 31)) == bucket


def test_aging_keeps_currencies_apart_and_skips_what_is_paid():
    rows = [
        money.Receivable("CNY", day(2026, 1, 1), D("100"), D("40")),
        money.Receivable("CNY", day(2026, 5, 20), D("50"), D("0")),
        money.Receivable("USD", day(2026, 7, 1), D("10"), D("0")),
        money.Receivable("CNY", day(2026, 1, 1), D("70"), D("70")),
    ]
    table = money.aging(rows, day(2026, 5, 31))
    assert table["CNY"] == {"not_due": 0, "d1_30": D("50"), "d31_60": 0, "d61_90": 0, "over_90": D("60")}
    assert table["USD"]["not_due"] == D("10") and sum(table["USD"].values()) == D("10")
    assert money.totals_by_currency([("CNY", D("1")), ("USD", D("2")), ("CNY", D("3"))]) == {"CNY": D("4"),
                                                                                           "USD": D("2")}


def test_limitation_period_of_three_years():
    assert money.limitation_ends(day(2023, 3, 15)) == day(2026, 3, 15)
    assert money.limitation_ends(day(2024, 2, 29)) == day(2027, 2, 28)
    assert money.limitation_state(day(2023, 3, 15), day(2026, 3, 15)) == "approaching"
    assert money.limitation_state(day(2023, 3, 15), day(2026, 3, 16)) == "expired"
    assert money.limitation_state(day(2023, 3, 15), day(2025, 9, 16)) == "approaching"
    assert money.limitation_state(day(2023, 3, 15), day(2025, 9, 1)) == ""
    assert money.limitation_state(day(2026, 3, 15), day(2026, 3, 1)) == ""
    assert money.limitation_state(None, day(2026, 3, 1)) == ""


def test_on_time_share():
    assert money.on_time_share([]) is None
    assert money.on_time_share([(day(2026, 1, 1), day(2026, 1, 1)), (day(2026, 1, 1), day(2026, 1, 2)),
                                (None, day(2026, 1, 1)), (day(2026, 1, 1), None)]) == 0.5


def test_a_total_refuses_another_currency():
    assert money.total([("CNY", D("1.50")), ("CNY", D("2"))], "CNY") == D("3.50")
    assert money.total([], "USD") == 0
    with pytest.raises(money.CurrencyMismatch):
        money.total([("CNY", D("100")), ("USD", D("100"))], "CNY")
