"""The visibility scope's three renderings agree: for every user and every row of a generated
population, the queryset filter (`visible`), the predicate (`can_see`) and the search index's key
tokens (search finds it) give the same answer."""

import itertools
import random

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_create
from qiyue.core.actors import SYSTEM
from qiyue.core.permissions import Scope, can_see, visible
from qiyue.customers.models import Customer
from qiyue.customers.services import customer_create
from qiyue.search.rebuild import reindex_all
from qiyue.search.selectors import search

from .corpus import make_document

pytestmark = pytest.mark.django_db

WORD = "scopeprobe"


@pytest.fixture
def population(users, team_a, team_b):
    rng = random.Random(2026)
    team_c = make_team("North")
    people = dict(users)
    people["loner"] = make_user("sales", None, username="loner")  # no team
    people["north"] = make_user("manager", team_c, username="north_mgr")
    people["gone"] = make_user("manager", team_a, username="gone_mgr")
    owners = [people[name] for name in ("sales", "sales2", "sales_b", "manager", "manager_b", "loner", "north",
                                        "gone", "admin")]
    teams = [team_a, team_b, team_c, None]
    admin = users["admin"]
    customers, contracts, documents = [], [], []
    for n, (owner, team) in enumerate(itertools.product(owners, teams)):
        if rng.random() < 0.4:
            continue
        # The admin assigns any owner to any team: owners' own rows in other teams and team-less rows occur.
        customer = customer_create(actor=admin, data={"name": f"{WORD} 客户 {n}", "owner": owner, "team": team},
                                   confirm_duplicate=True)
        customers.append(customer)
        contract = contract_create(actor=admin, data={"title": f"{WORD} 合同 {n}", "customer": customer,
                                                       "owner": rng.choice(owners), "team": rng.choice(teams)})
        contracts.append(contract)
        if n % 3 == 0:
            documents.append(make_document(owner=admin, contract=contract, text=f"{WORD} 正文 {n}"))
        if n % 5 == 0:
            documents.append(make_document(owner=admin, customer=customer, text=f"{WORD} 资料 {n}"))
    people["gone"].is_active = False
    people["gone"].save()
    reindex_all()
    people["system"] = SYSTEM
    return people, customers, contracts, documents


def test_visible_can_see_and_search_agree_for_every_user_and_row(population):
    people, customers, contracts, documents = population
    assert len(contracts) > 10 and documents
    for name, user in people.items():
        seen_contracts = set(visible(user, Contract.objects.live()).values_list("pk", flat=True))
        seen_customers = set(visible(user, Customer.objects.all()).values_list("pk", flat=True))
        found = {(hit.kind, hit.object.pk) for hit in search(user=user, q=WORD, limit=1000).hits}
        for contract in contracts:
            by_predicate = can_see(user, contract)
            assert (contract.pk in seen_contracts) == by_predicate, (name, contract)
            assert (("contract", contract.pk) in found) == by_predicate, (name, contract)
        for customer in customers:
            by_predicate = can_see(user, customer)
            assert (customer.pk in seen_customers) == by_predicate, (name, customer)
            assert (("customer", customer.pk) in found) == by_predicate, (name, customer)
        for document in documents:
            owner = document.contract or document.customer
            assert (("document", document.pk) in found) == can_see(user, owner), (name, document)
        keys = Scope.of(user).search_keys()
        if name in ("admin", "legal", "finance", "auditor", "system"):
            assert keys is None and seen_contracts == {c.pk for c in contracts}
        elif name == "gone":
            assert keys == () and not seen_contracts and not found


def test_the_population_covers_every_case(population):
    """Own rows in another team, team rows of another owner, team-less rows and users without a team."""
    people, customers, contracts, documents = population
    sales = people["sales"]
    assert any(c.owner_id == sales.pk and c.team_id != sales.team_id for c in contracts)
    assert any(c.owner_id != sales.pk and c.team_id == sales.team_id for c in contracts)
    assert any(c.team_id is None for c in contracts)
    assert any(c.owner_id == people["loner"].pk for c in contracts)
