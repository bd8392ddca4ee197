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
