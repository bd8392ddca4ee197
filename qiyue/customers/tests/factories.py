"""Test data builders for customers: real rows through the real services."""

import itertools
import random

from qiyue.core.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from qiyue.customers.models import Customer
from qiyue.customers.services import customer_create

_counter = itertools.count(1)


def make_credit_code(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
        rng.choice(CREDIT_CODE_CHARSET) for _ in range(9))
    return body + credit_code_check_char(body)


def make_customer(owner, **data) -> Customer:
    n = next(_counter)
    data.setdefault("name", f"测试客户{n}号科技有限公司")
    data.setdefault("owner", owner)
    return customer_create(actor=data.pop("actor", owner), data=data, confirm_duplicate=True)
