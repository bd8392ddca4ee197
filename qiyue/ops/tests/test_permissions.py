"""The one scoping rule, checked for every role against own, team and other-team rows."""

import pytest

from qiyue.accounts.tests.factories import make_user
from qiyue.contracts.selectors import contract_list, contract_status_counts
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.selectors import communication_list, contact_list, customer_list
from qiyue.customers.services import contact_create
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

# Which of (own by sales, own by sales2 (same team), other team's) each role sees.
EXPECTED = {
    "admin": {"a", "a2", "b"},
    "manager": {"a", "a2"},
    "sales": {"a", "a2"},
    "sales2": {"a", "a2"},
    "sales_b": {"b"},
    "manager_b": {"b"},
    "legal": {"a", "a2", "b"},
    "finance": {"a", "a2", "b"},
    "auditor": {"a", "a2", "b"},
}


@pytest.fixture
def rows(users):
    out = {}
    for key, owner in (("a", users["sales"]), ("a2", users["sales2"]), ("b", users["sales_b"])):
        customer = make_customer(owner, name=f"客户{key}")
        contact_create(actor=owner, customer=customer, data={"name": f"联系人{key}"})
        out[key] = make_contract(owner, customer=customer, title=f"合同{key}")
    return out


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_lists_and_counts_follow_scope(users, rows, role):
    user = users[role]
    expected = EXPECTED[role]
    assert {c.title[-1:] if c.title[-2:] != "a2" else "a2" for c in contract_list(user=user)} == expected
    assert {c.name.removeprefix("客户") for c in customer_list(user=user)} == expected
    assert {c.name.removeprefix("联系人") for c in contact_list(user=user)} == expected
    assert communication_list(user=user).count() == 0
    assert sum(contract_status_counts(user=user).values()) == len(expected)


def test_inactive_user_sees_nothing(users, rows):
    user = users["admin"]
    user.is_active = False
    user.save()
    assert contract_list(user=user).count() == 0


def test_user_without_team_sees_only_own(users, rows):
    loner = make_user("sales")
    mine = make_contract(loner)
    assert list(contract_list(user=loner)) == [mine]
