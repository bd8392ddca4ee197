"""The receivables by due date the dashboard reads (ReceivableStat) follow every money change, change of
owner or team, deletion and milestone, whatever writes the contract row (database triggers); the check
command finds a difference and --fix rebuilds them; a user sees only the part of the contracts they see."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from qiyue.contracts.models import UNDATED, Contract, ReceivableStat
from qiyue.contracts.selectors import receivables_by_due_date
from qiyue.finance import services, totals
from qiyue.finance.models import Installment
from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db
day = datetime.date


def _owed(user) -> dict:
    return {currency: [(due, str(amount), n) for due, amount, n in rows]
            for currency, rows in receivables_by_due_date(user=user).items()}


def test_payments_milestones_and_reversals_move_the_receivables_by_due_date(users):
    finance, sales = users["finance"], users["sales"]
    contract = signed_contract(sales, amount="10000.00")
    milestone = services.obligation_create(actor=sales, contract=contract, data={"description": "验收"})
    services.payment_plan_save(actor=finance, contract=contract, expected_version=None, installments=[
        {"amount": "3000.00", "due_date": "2026-02-01"}, {"amount": "3000.00", "due_date": "2026-02-01"},
        {"amount": "4000.00", "obligation": milestone.pk, "days_after": 10}])
    # Two installments on one day are one row; the one waiting for its milestone has no date yet.
    assert _owed(finance) == {"CNY": [(day(2026, 2, 1), "6000.00", 2), (UNDATED, "4000.00", 1)]}
    payment, _created = services.payment_record(actor=finance, contract=contract,
                                                data={"amount": "3500.00", "received_on": day(2026, 3, 1)})
    assert _owed(finance) == {"CNY": [(day(2026, 2, 1), "2500.00", 1), (UNDATED, "4000.00", 1)]}
    services.obligation_complete(actor=sales, obligation=milestone, done_on=day(2026, 3, 1))
    assert _owed(finance) == {"CNY": [(day(2026, 2, 1), "2500.00", 1), (day(2026, 3, 11), "4000.00", 1)]}
    services.payment_reverse(actor=finance, payment=payment, reason="银行退回")
    assert _owed(finance) == {"CNY": [(day(2026, 2, 1), "6000.00", 2), (day(2026, 3, 11), "4000.00", 1)]}
    assert totals.receivable_stat_differences() == []


def test_owner_team_deletion_and_scope_follow_whatever_writes_the_row(users, team_b):
    finance, sales = users["finance"], users["sales"]
    contract = signed_contract(sales, amount="10000.00", currency="USD")
    plan(finance, contract, ("2026-02-01", "10000.00"))
    other = signed_contract(users["sales_b"], amount="500.00")
    plan(finance, other, ("2026-04-01", "500.00"))
    assert _owed(sales) == {"USD": [(day(2026, 2, 1), "10000.00", 1)]}
    assert _owed(users["sales_b"]) == {"CNY": [(day(2026, 4, 1), "500.00", 1)]}
    assert set(_owed(finance)) == {"USD", "CNY"}

    # A bulk write that no service made (a reassignment, a script): the triggers still follow it.
    Contract.objects.filter(pk=contract.pk).update(owner=users["sales_b"], team=team_b)
    assert _owed(sales) == {}
    assert _owed(users["sales_b"])["USD"] == [(day(2026, 2, 1), "10000.00", 1)]
    assert _owed(users["manager_b"])["USD"] == [(day(2026, 2, 1), "10000.00", 1)]
    assert totals.receivable_stat_differences() == []

    Contract.objects.filter(pk=contract.pk).update(deleted_at=timezone.now())
    assert "USD" not in _owed(finance) and totals.receivable_stat_differences() == []
    Contract.objects.filter(pk=contract.pk).update(deleted_at=None)
    assert _owed(finance)["USD"] == [(day(2026, 2, 1), "10000.00", 1)]

    Installment.objects.filter(contract=other).delete()
    Contract.objects.filter(pk=other.pk).delete()
    assert "CNY" not in _owed(finance) and totals.receivable_stat_differences() == []


def test_the_check_command_finds_and_rebuilds_a_wrong_receivable_row(users, capsys):
    contract = signed_contract(users["sales"], amount="10000.00")
    plan(users["finance"], contract, ("2026-02-01", "10000.00"))
    call_command("finance", "check")
    assert "OK" in capsys.readouterr().out
    ReceivableStat.objects.filter(due_date=day(2026, 2, 1)).update(amount=Decimal("1.00"))
    with pytest.raises(CommandError):
        call_command("finance", "check")
    out = capsys.readouterr().out
    assert "receivables by due date" in out and "2026-02-01" in out and "10000.00" in out
    call_command("finance", "check", "--fix")
    call_command("finance", "check")
    assert _owed(users["finance"]) == {"CNY": [(day(2026, 2, 1), "10000.00", 1)]}


def test_installments_carry_their_contracts_owner_and_team_whatever_writes_them(users, team_b):
    finance, sales = users["finance"], users["sales"]
    contract = signed_contract(sales, amount="10000.00")
    plan(finance, contract, ("2026-02-01", "4000.00"), ("2026-05-01", "6000.00"))
    scope = set(Installment.objects.filter(contract=contract).values_list("owner_id", "team_id"))
    assert scope == {(sales.pk, sales.team_id)}
    # The owner and team change by a bulk write: the installments follow, and the list scopes by them.
    Contract.objects.filter(pk=contract.pk).update(owner=users["sales_b"], team=team_b)
    assert set(Installment.objects.filter(contract=contract).values_list("owner_id", "team_id")) == {
        (users["sales_b"].pk, team_b.pk)}
    # A stale instance saved in full, or a row written with another owner, is put right by the database.
    stale = Installment.objects.filter(contract=contract).first()
    stale.owner_id, stale.team_id = sales.pk, sales.team_id
    stale.save()
    Installment.objects.filter(contract=contract).update(owner_id=None, team_id=None)
    assert set(Installment.objects.filter(contract=contract).values_list("owner_id", "team_id")) == {
        (users["sales_b"].pk, team_b.pk)}


def test_those_who_see_everything_read_the_totals_without_team_and_owner(users, capsys):
    from qiyue.contracts.models import ReceivableTotal

    plan(users["finance"], signed_contract(users["sales"], amount="100.00"), ("2026-02-01", "100.00"))
    plan(users["finance"], signed_contract(users["sales_b"], amount="50.00"), ("2026-02-01", "50.00"))
    assert list(ReceivableTotal.objects.values_list("currency", "due_date", "count", "amount")) == [
        ("CNY", day(2026, 2, 1), 2, Decimal("150.00"))]
    assert _owed(users["finance"]) == {"CNY": [(day(2026, 2, 1), "150.00", 2)]}
    assert _owed(users["sales_b"]) == {"CNY": [(day(2026, 2, 1), "50.00", 1)]}
    ReceivableTotal.objects.update(amount=Decimal("1.00"))
    with pytest.raises(CommandError):
        call_command("finance", "check")
    assert "receivables by due date all/CNY/2026-02-01" in capsys.readouterr().out
    call_command("finance", "check", "--fix")
    assert _owed(users["finance"]) == {"CNY": [(day(2026, 2, 1), "150.00", 2)]}


def test_the_summary_collapsed_by_band_in_sql_equals_the_aging_of_every_installment(users):
    """The summary sums by aging band and by month in SQL (contracts.selectors.aging_band): on each side of
    every band's boundary, and for finance (ReceivableTotal) as for a salesperson (ReceivableStat), its
    aging and the dashboard's months equal the installments' own, day by day."""
    from qiyue.finance import money, receivables
    from qiyue.finance.dashboard import receivable_charts

    today = timezone.localdate()
    offsets = [0, 1, 30, 31, 60, 61, 90, 91, 400, -1, -20, -40, -75, -200]
    contract = signed_contract(users["sales"], amount=f"{100 * (len(offsets) + 1)}.00")
    dues = [today - datetime.timedelta(days=offset) for offset in offsets]
    milestone = services.obligation_create(actor=users["sales"], contract=contract, data={"description": "验收"})
    services.payment_plan_save(actor=users["finance"], contract=contract, expected_version=None, installments=[
        *({"amount": "100.00", "due_date": due.isoformat()} for due in dues),
        {"amount": "100.00", "obligation": milestone.pk, "days_after": 5}])
    expected = money.aging([money.Receivable("CNY", due, Decimal("100.00"), Decimal("0")) for due in dues]
                           + [money.Receivable("CNY", None, Decimal("100.00"), Decimal("0"))], today)["CNY"]
    assert expected["d1_30"] == Decimal("200.00")  # 1 and 30 days; 31 is the next band
    for user in (users["finance"], users["sales"]):
        (entry,) = receivables.summary(user=user, today=today)
        assert entry.aging == expected and entry.outstanding == Decimal(f"{100 * (len(offsets) + 1)}.00")
        assert len(entry.by_due_date) < len(dues)  # collapsed
        charts = receivable_charts(user=user, today=today)
        by_column = {row["key"]: row["cells"][0]["amount"] for row in charts["receivable_due_rows"]}
        assert by_column["overdue"] == sum(expected[key] for key in money.AGING_BUCKETS if key != "not_due")
        assert by_column["undated"] == Decimal("100.00")
        this_month = today.replace(day=1).isoformat()
        due_this_month = [due for due in dues if due >= today and due.replace(day=1) == today.replace(day=1)]
        assert by_column[this_month] == 100 * len(due_this_month)
        assert sum(by_column.values()) == entry.outstanding
