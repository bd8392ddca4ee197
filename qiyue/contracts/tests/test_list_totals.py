"""Totals of the filtered contracts list, per currency: amounts in different currencies are never
added up, cancelled contracts never count in an amount, and a user's totals hold only the contracts
they may see. Filters the maintained ContractStat rows can answer for are answered from them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiyue.contracts.selectors import contract_list_totals
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts(users):
    sales, sales2, other = users["sales"], users["sales2"], users["sales_b"]
    made = [
        make_contract(sales, amount=Decimal("100.00"), nature="sales"),
        make_contract(sales, amount=Decimal("250.50"), nature="purchase"),
        make_contract(sales2, amount=Decimal("1000.00"), currency="USD", nature="sales"),
        make_contract(other, amount=Decimal("99999.00"), nature="sales"),  # another team's
    ]
    cancelled = make_contract(sales, amount=Decimal("5000.00"), nature="sales")
    contract_transition(actor=sales, contract=cancelled, name="cancel", reason="重复")
    return made


def _by_currency(totals):
    return {row["currency"]: (row["count"], row["total"]) for row in totals}


def test_totals_per_currency_without_cancelled_amounts(users, contracts):
    totals = contract_list_totals(user=users["sales"], filters={})
    # The cancelled contract is in the count (it is in the list) but not in the amount.
    assert _by_currency(totals) == {"CNY": (3, Decimal("350.50")), "USD": (1, Decimal("1000.00"))}
    assert [row["currency"] for row in totals] == ["CNY", "USD"]
    assert _by_currency(contract_list_totals(user=users["admin"], filters={}))["CNY"] == (4, Decimal("100349.50"))


@pytest.mark.parametrize("filters", [{}, {"status": ["draft"]}, {"status": ["draft", "cancelled"]},
                                     {"owner": "sales2"}, {"team": "a"}])
def test_stat_rows_answer_as_the_contracts_would(users, team_a, contracts, filters):
    """The same totals from the ContractStat rows as from summing the matching contracts (forced by
    adding a filter the rows cannot answer for, which matches every contract)."""
    params = {k: (users[v].pk if k == "owner" else team_a.pk if k == "team" else v) for k, v in filters.items()}
    for role in ("sales", "manager", "admin"):
        with CaptureQueriesContext(connection) as queries:
            from_stats = contract_list_totals(user=users[role], filters=params)
        assert any("contracts_contractstat" in q["sql"] for q in queries.captured_queries)
        summed = contract_list_totals(user=users[role], filters={**params, "amount_min": "0"})
        assert _by_currency(from_stats) == _by_currency(summed), (role, filters)


def test_other_filters_sum_the_matching_contracts(users, contracts):
    totals = contract_list_totals(user=users["sales"], filters={"nature": ["sales"]})
    assert _by_currency(totals) == {"CNY": (2, Decimal("100.00")), "USD": (1, Decimal("1000.00"))}


def test_a_team_members_totals_add_their_own_contracts_in_other_teams(users, team_b, contracts):
    """Summed per visibility part (the team's, the user's own elsewhere), each counted once."""
    make_contract(users["sales"], actor=users["admin"], team=team_b, amount=Decimal("7.00"), nature="sales")
    totals = contract_list_totals(user=users["sales"], filters={"nature": ["sales"]})
    assert _by_currency(totals) == {"CNY": (3, Decimal("107.00")), "USD": (1, Decimal("1000.00"))}
    # Team B's manager sees it through the team, not as the owner: the same contract, once.
    assert _by_currency(contract_list_totals(user=users["manager_b"], filters={"nature": ["sales"]}))["CNY"] == (
        2, Decimal("100006.00"))


def test_the_totals_partial_and_its_hostile_input(client, users, contracts):
    client.force_login(users["sales"])
    url = reverse("contracts:totals")
    body = client.get(url, {"status": "draft"}).content.decode()
    assert 'data-testid="total-CNY"' in body and "350.50" in body and 'data-testid="total-USD"' in body
    assert "99,999.00" not in client.get(url).content.decode()  # another team's contract
    for bad in ({"status": "nonsense"}, {"amount_min": "x"}, {"customer": "999999"}, {"owner": "abc"},
                {"expiry_date_after": "2026-13-45"}, {"q": "x" * 5000}):
        response = client.get(url, bad)
        assert response.status_code in (200, 400), bad
        if response.status_code == 400:
            assert "Some filters are not valid." in response.content.decode()
    assert client.get(url, {"status": "nonsense"}).status_code == 400
    # The list loads them after itself, with the same filters.
    listing = client.get(reverse("contracts:list"), {"status": "draft"}).content.decode()
    assert f'hx-get="{url}?status=draft"' in listing


@pytest.mark.parametrize("ordering", ["amount", "-amount"])
def test_sorting_by_amount_keeps_each_currency_together(client, users, ordering):
    sales = users["sales"]
    for amount, currency in (("100.00", "CNY"), ("90.00", "USD"), ("300.00", "CNY"), ("5.00", "USD"),
                             ("200.00", "EUR")):
        make_contract(sales, amount=Decimal(amount), currency=currency)
    client.force_login(sales)
    page = client.get(reverse("contracts:list"), {"ordering": ordering}).context["page"]
    rows = [(c.currency, c.amount) for c in page.object_list]
    currencies = [currency for currency, _amount in rows]
    # Each currency in one run (never 100 CNY between 90 USD and 5 USD), amounts sorted within it.
    assert currencies == sorted(currencies)
    for currency in set(currencies):
        amounts = [amount for c, amount in rows if c == currency]
        assert amounts == sorted(amounts, reverse=ordering.startswith("-"))
    api = client.get("/api/v1/contracts/", {"ordering": ordering}).json()
    assert [row["currency"] for row in api["results"]] == currencies


def test_currency_filter_is_a_pick_list_of_visible_currencies(client, users):
    make_contract(users["sales"], currency="USD")
    make_contract(users["sales_b"], currency="JPY", amount=Decimal("1000"))  # another team's
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:list")).content.decode()
    select = html[html.index('name="currency"'):]
    select = select[:select.index("</select>")]
    assert '<option value="USD">USD</option>' in select and "JPY" not in select
    assert len(client.get(reverse("contracts:list"), {"currency": "USD"}).context["page"].object_list) == 1
