"""Test data builders: real rows through the real services."""

import datetime
import itertools
import random
from decimal import Decimal

from qiyue.accounts.models import Team, User
from qiyue.accounts.services import user_create
from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_create
from qiyue.core.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from qiyue.customers.models import Customer
from qiyue.customers.services import customer_create

_counter = itertools.count(1)
PASSWORD = "Qiyue-test-pass-2026"


def make_credit_code(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
        rng.choice(CREDIT_CODE_CHARSET) for _ in range(9))
    return body + credit_code_check_char(body)


def make_team(name: str | None = None) -> Team:
    return Team.objects.get_or_create(name=name or f"Team {next(_counter)}")[0]


def make_user(role: str = "sales", team: Team | None = None, username: str | None = None) -> User:
    return user_create(actor=None, username=username or f"{role}{next(_counter)}", role=role, team=team,
                       password=PASSWORD, display_name=(username or role).title())


def make_customer(owner: User, **data) -> Customer:
    n = next(_counter)
    data.setdefault("name", f"测试客户{n}号科技有限公司")
    data.setdefault("owner", owner)
    return customer_create(actor=data.pop("actor", owner), data=data, confirm_duplicate=True)


def make_contract(owner: User, customer: Customer | None = None, **data) -> Contract:
    n = next(_counter)
    data.setdefault("title", f"测试合同 {n}")
    data.setdefault("customer", customer or make_customer(owner))
    data.setdefault("owner", owner)
    data.setdefault("amount", Decimal("100000.00"))
    data.setdefault("effective_date", datetime.date(2026, 1, 1))
    data.setdefault("expiry_date", datetime.date(2027, 12, 31))
    return contract_create(actor=data.pop("actor", owner), data=data)
