"""The documents policy as a table: role × whose contract or customer × action (cells written out)."""

import pytest

from qiyue.contracts.tests.factories import make_contract
from qiyue.core.actors import SYSTEM
from qiyue.documents import policies

pytestmark = pytest.mark.django_db

ACTORS = ("admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor", "system")
EDITORS = {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B"}
TABLE = {
    "see_owner": {"admin": "AB", "manager": "A", "sales": "A", "sales2": "A", "sales_b": "B", "manager_b": "B",
                  "legal": "AB", "finance": "AB", "auditor": "AB", "system": "AB"},
    "upload_to_contract": EDITORS,
    "upload_to_customer": EDITORS,
    "manage_paper": EDITORS,
}


@pytest.mark.parametrize("action", sorted(TABLE))
def test_document_policy_table(users, action):
    actors = {**users, "system": SYSTEM}
    contracts = {"A": make_contract(users["sales"]), "B": make_contract(users["sales_b"])}

    def allowed(actor, contract):
        return {"see_owner": lambda: policies.can_see_owner(actor, contract),
                "upload_to_contract": lambda: policies.can_upload_to(actor, contract),
                "upload_to_customer": lambda: policies.can_upload_to(actor, contract.customer),
                "manage_paper": lambda: policies.can_manage_paper(actor, contract)}[action]()

    got = {name: "".join(k for k, c in sorted(contracts.items()) if allowed(actors[name], c)) for name in ACTORS}
    assert got == {name: TABLE[action].get(name, "") for name in ACTORS}
