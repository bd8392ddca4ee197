"""Test data builders for contracts: real rows through the real services."""

import datetime
import itertools
from decimal import Decimal

from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_create
from qiyue.customers.models import Customer
from qiyue.customers.tests.factories import make_customer

_counter = itertools.count(1)


def make_contract(owner, customer: Customer | None = None, **data) -> Contract:
    n = next(_counter)
    data.setdefault("title", f"测试合同 {n}")
    data.setdefault("customer", customer or make_customer(owner))
    data.setdefault("owner", owner)
    data.setdefault("amount", Decimal("100000.00"))
    data.setdefault("effective_date", datetime.date(2026, 1, 1))
    data.setdefault("expiry_date", datetime.date(2027, 12, 31))
    return contract_create(actor=data.pop("actor", owner), data=data)


def settle_review(contract: Contract, name: str = "approve", *, actor=None, reason: str = "") -> Contract:
    """Take the approval workflow's own transition (approve, return, withdraw, reopen) directly, as the
    workflow does when an approval ends: tests of the contracts app need an approved contract without
    going through a flow (qiyue/workflow/tests test the flows)."""
    from qiyue.contracts.services import contract_transition
    from qiyue.core.actors import SYSTEM

    return contract_transition(actor=actor or SYSTEM, contract=contract, name=name, reason=reason,
                               via_workflow=True)
