"""The contracts policy as a table: role × whose contract × action. Each expected cell is written out,
not computed by the rule under test."""

import pytest

from qiyue.contracts import policies
from qiyue.contracts.models import Contract, Status
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.core.actors import SYSTEM
from qiyue.core.permissions import can_see

pytestmark = pytest.mark.django_db

# Contracts: "A" is sales_a's (team East), "B" is sales_b's (team West).
ACTORS = ("admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor", "system")
TABLE = {
    # action: {actor: contracts the action is allowed on}
    "see": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B",
            "legal": "AB", "finance": "AB", "auditor": "AB", "system": "AB"},
    "edit": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
    "delete_draft": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
    "delete_signed": {"admin": "AB"},
    "submit": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
    # The approval workflow's own: nobody takes them with a click (qiyue.workflow decides).
    "approve": {},
    "return": {},
    "sign": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
    "activate": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B",
                 "system": "AB"},
    "expire": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B",
               "system": "AB"},
    "terminate": {"admin": "AB", "manager": "A", "manager_b": "B", "legal": "AB"},
    "cancel": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"},
}
# Actions on no particular contract: which actors may.
GENERAL = {
    "create": {"admin", "manager", "sales", "sales2", "sales_b", "manager_b"},
    "legal_hold": {"admin", "legal"},
    "manage_retention": {"admin"},
    "review": {"admin", "manager", "manager_b", "legal", "finance"},
}


@pytest.fixture
def actors(users):
    return {**users, "system": SYSTEM}


@pytest.fixture
def contracts(users):
    return {"A": make_contract(users["sales"]), "B": make_contract(users["sales_b"])}


def _allowed(action, actor, contract: Contract) -> bool:
    if action == "see":
        return can_see(actor, contract) and policies.can_see_contract(actor, contract)
    if action == "edit":
        return policies.can_edit_contract(actor, contract)
    if action == "delete_draft":
        return policies.can_delete_contract(actor, contract)
    if action == "delete_signed":
        contract.status = Status.SIGNED
        return policies.can_delete_contract(actor, contract)
    return policies.can_take(actor, contract, TRANSITIONS[action])


@pytest.mark.parametrize("action", sorted(TABLE))
def test_contract_policy_table(actors, contracts, action):
    got = {name: "".join(key for key, contract in sorted(contracts.items()) if _allowed(action, actors[name], contract))
           for name in ACTORS}
    expected = {name: TABLE[action].get(name, "") for name in ACTORS}
    assert got == expected


def test_general_contract_policies(actors):
    checks = {"create": policies.can_create_contract, "legal_hold": policies.can_set_legal_hold,
              "manage_retention": policies.can_manage_retention, "review": policies.is_reviewer}
    for action, check in checks.items():
        assert {name for name in ACTORS if check(actors[name])} == GENERAL[action], action


def test_an_inactive_user_may_do_nothing(users, contracts):
    user = users["admin"]
    user.is_active = False
    assert not can_see(user, contracts["A"]) and not policies.can_edit_contract(user, contracts["A"])
    assert not policies.can_take(user, contracts["A"], TRANSITIONS["submit"])
    assert not policies.can_create_contract(user) and not policies.can_set_legal_hold(user)
