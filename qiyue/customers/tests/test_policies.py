"""The customers policy as a table: role × whose customer × action (cells written out)."""

import pytest

from qiyue.core.actors import SYSTEM
from qiyue.customers import policies
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

ACTORS = ("admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor", "system")
TABLE = {
    "see": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B",
            "legal": "AB", "finance": "AB", "auditor": "AB", "system": "AB"},
    "edit": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
}
CREATE = {"admin", "manager", "sales", "sales2", "sales_b", "manager_b"}


@pytest.mark.parametrize("action", sorted(TABLE))
def test_customer_policy_table(users, action):
    actors = {**users, "system": SYSTEM}
    customers = {"A": make_customer(users["sales"]), "B": make_customer(users["sales_b"])}
    check = policies.can_see_customer if action == "see" else policies.can_edit_customer
    got = {name: "".join(k for k, c in sorted(customers.items()) if check(actors[name], c)) for name in ACTORS}
    assert got == {name: TABLE[action].get(name, "") for name in ACTORS}


def test_who_creates_customers(users):
    actors = {**users, "system": SYSTEM}
    assert {name for name in ACTORS if policies.can_create_customer(actors[name])} == CREATE
