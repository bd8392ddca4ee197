"""The money totals a contract keeps for lists equal a recomputation from its rows after any sequence of
payments, reversals, plan edits, milestones and amendments; `qiyue finance check` finds and fixes a
difference."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from qiyue.contracts import amendments
from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError
from qiyue.finance import money, services, totals
from qiyue.finance.models import Installment, Payment
from qiyue.finance.tests.factories import signed_contract

pytestmark = pytest.mark.django_db
day = datetime.date


def test_totals_follow_every_money_change_in_a_random_sequence(users):
    rng = random.Random(12)
    finance, sales = users["finance"], users["sales"]
    contracts = [signed_contract(sales, amount=str(rng.randint(50, 200) * 1000) + ".00") for _ in range(3)]
    milestones = {}
    for contract in contracts:
        milestones[contract.pk] = services.obligation_create(actor=sales, contract=contract,
                                                             data={"description": "验收"})
        first, second, third = money.split_evenly(contract.amount, 3, contract.currency)
        services.payment_plan_save(actor=finance, contract=contract, expected_version=None, installments=[
            {"amount": first, "due_date": "2026-02-01"}, {"amount": second, "due_date": "2026-05-01"},
            {"amount": third, "obligation": milestones[contract.pk].pk, "days_after": 10}])
    refused = 0
    for step in range(40):
        contract = Contract.objects.get(pk=rng.choice(contracts).pk)
        action = rng.choice(["pay", "pay", "pay_by_hand", "reverse", "plan", "milestone", "amend"])
        try:
            if action == "pay":
                services.payment_record(actor=finance, contract=contract, as_advance=rng.random() < 0.2, data={
                    "amount": str(rng.randint(1, 40000)) + ".50", "received_on": day(2026, 3, rng.randint(1, 28))})
            elif action == "pay_by_hand":
                row = rng.choice(list(Installment.objects.filter(contract=contract)))
                services.payment_record(actor=finance, contract=contract, allocations={row.pk: "100.00"},
                                        data={"amount": "100.00", "received_on": day(2026, 4, 1)})
            elif action == "reverse":
                payment = Payment.objects.filter(contract=contract, status="recorded").order_by("?").first()
                if payment is not None:
                    services.payment_reverse(actor=finance, payment=payment, reason=f"第 {step} 步冲销")
            elif action == "plan":
                rows = [{"id": r.pk, "amount": max(r.received, r.amount - 1000) or r.amount,
                         "due_date": r.due_date or "", "obligation": r.obligation_id or "",
                         "days_after": r.days_after} for r in Installment.objects.filter(contract=contract)]
                services.payment_plan_save(actor=finance, contract=contract, installments=rows,
                                           expected_version=None)
            elif action == "milestone":
                milestone = milestones[contract.pk]
                milestone.refresh_from_db()
                if milestone.status == "open":
                    services.obligation_complete(actor=sales, obligation=milestone, done_on=day(2026, 3, 1))
                else:
                    services.obligation_reopen(actor=sales, obligation=milestone)
            else:
                amendment = amendments.amendment_create(actor=sales, contract=contract, data={
                    "reason": "追加", "changes": {"amount": str(contract.amount + 1000)}})
                amendments.amendment_cancel(actor=sales, amendment=amendment, reason="不再需要")
        except ApplicationError:
            refused += 1  # a refused step changes nothing, which the check below also proves
        assert list(totals.differences([c.pk for c in contracts])) == [], (step, action)
        assert totals.receivable_stat_differences() == [], (step, action)
    assert Payment.objects.filter(status="reversed").exists() and Payment.objects.filter(status="recorded").exists()
    assert 0 < refused < 40  # the sequence had refused steps (overpayments) among the many that changed money


def test_the_totals_a_list_reads(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    services.payment_plan_save(actor=users["finance"], contract=contract, expected_version=None, installments=[
        {"amount": "4000.00", "due_date": "2026-02-01"}, {"amount": "6000.00", "due_date": "2026-06-01"}])
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "1000.00", "received_on": day(2026, 3, 1)})
    contract.refresh_from_db()
    assert (contract.received_amount, contract.outstanding_amount, contract.unpaid_since) == (
        Decimal("1000.00"), Decimal("9000.00"), day(2026, 2, 1))
    assert contract.overdue_amount(day(2026, 3, 1)) == Decimal("3000.00")
    assert contract.overdue_amount(day(2026, 7, 1)) == Decimal("9000.00")
    assert contract.overdue_amount(day(2026, 1, 1)) == 0
    version = contract.version
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "3000.00", "received_on": day(2026, 3, 2)})
    contract.refresh_from_db()
    assert contract.unpaid_since == day(2026, 6, 1) and contract.version == version  # no edit of the contract


def test_the_check_command_finds_and_fixes_a_difference(users, capsys):
    contract = signed_contract(users["sales"], amount="10000.00")
    services.payment_plan_save(actor=users["finance"], contract=contract, expected_version=None,
                               installments=[{"amount": "10000.00", "due_date": "2026-02-01"}])
    call_command("finance", "check")
    assert "OK" in capsys.readouterr().out
    Contract.objects.filter(pk=contract.pk).update(outstanding_amount=Decimal("1.00"), unpaid_since=None)
    with pytest.raises(CommandError):
        call_command("finance", "check")
    assert f"contract {contract.pk}: outstanding_amount: 1.00 → 10000.00" in capsys.readouterr().out
    call_command("finance", "check", "--fix")
    call_command("finance", "check")
    contract.refresh_from_db()
    assert contract.outstanding_amount == Decimal("10000.00") and contract.unpaid_since == day(2026, 2, 1)
