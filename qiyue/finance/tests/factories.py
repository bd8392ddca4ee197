"""Test data builders for execution and money: real contracts through the real services."""

import datetime
from decimal import Decimal

from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.finance.services import payment_plan_save


def signed_contract(owner, *, amount: str = "100000.00", **data):
    """A contract of `owner`, submitted, approved through its flow and signed on 2026-01-10."""
    from qiyue.workflow.tests.factories import approve_through

    contract = make_contract(owner, amount=Decimal(amount), **data)
    contract = contract_transition(actor=owner, contract=contract, name="submit")
    contract = approve_through(contract)
    return contract_transition(actor=owner, contract=contract, name="sign", signing_method="wet_ink",
                               signing_date=datetime.date(2026, 1, 10))


def plan(actor, contract, *rows):
    """Save a plan of (due date, amount) pairs."""
    return payment_plan_save(actor=actor, contract=contract, expected_version=None, installments=[
        {"due_date": due, "amount": amount} for due, amount in rows])
