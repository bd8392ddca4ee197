"""The contracts list (page and API) filtered and sorted by money: "has overdue", "overdue more than 90
days" and "nothing overdue" derived from today, longest overdue first unless sorted otherwise, and the
sort by outstanding grouping each currency."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts(users):
    """Made oldest first: far overdue (200 days), overdue (30 days), due later, and no plan at all."""
    today = timezone.localdate()
    ago = lambda days: today - datetime.timedelta(days=days)  # noqa: E731
    far = signed_contract(users["sales"], amount="1000.00")
    plan(users["finance"], far, (ago(200), "400.00"), (ago(-30), "600.00"))
    late = signed_contract(users["sales"], amount="2000.00")
    plan(users["finance"], late, (ago(30), "2000.00"))
    later = signed_contract(users["sales"], amount="3000.00")
    plan(users["finance"], later, (ago(-60), "3000.00"))
    unplanned = signed_contract(users["sales"], amount="500.00")
    return {"far": far, "late": late, "later": later, "unplanned": unplanned}


def page_numbers(client, **params) -> list[str]:
    response = client.get(reverse("contracts:list"), params)
    assert response.status_code == 200
    rows = re.findall(r'<tr data-testid="contract-row".*?</tr>', response.content.decode(), re.S)
    return [number for row in rows for number in re.findall(r"HT-[\w-]+", row)[:1]]


def api_ids(client, **params) -> list[int]:
    response = client.get("/api/v1/contracts/", params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("via", ["page", "api"])
def test_overdue_filters_follow_today_and_list_the_longest_overdue_first(client, users, contracts, via):
    client.force_login(users["finance"])
    ids = {name: (contract.number if via == "page" else contract.pk) for name, contract in contracts.items()}
    listed = (lambda **p: page_numbers(client, **p)) if via == "page" else (lambda **p: api_ids(client, **p))
    assert listed(overdue="yes") == [ids["far"], ids["late"]]
    assert listed(overdue="over_90") == [ids["far"]]
    # Nothing overdue: newest first, as the list always is.
    assert listed(overdue="no") == [ids["unplanned"], ids["later"]]
    # A sort the user chose replaces the longest-overdue-first order.
    assert listed(overdue="yes", ordering="-created_at") == [ids["late"], ids["far"]]
    assert listed(overdue="yes", ordering="-unpaid_since") == [ids["late"], ids["far"]]


def test_the_sort_chooser_says_the_list_is_longest_overdue_first(client, users, contracts):
    client.force_login(users["finance"])
    chooser = lambda **p: re.search(r'<select name="ordering".*?</select>', client.get(  # noqa: E731
        reverse("contracts:list"), p).content.decode(), re.S).group(0)
    assert '<option value="" selected>Longest overdue first</option>' in chooser(overdue="over_90")
    assert "Longest overdue first" not in chooser(overdue="over_90", ordering="-created_at")
    assert "Longest overdue first" not in chooser(overdue="no") and "Default order" in chooser(overdue="no")


def test_sorted_by_outstanding_most_first(client, users, contracts):
    client.force_login(users["finance"])
    assert api_ids(client, ordering="-outstanding")[:4] == [
        contracts[name].pk for name in ("later", "late", "far", "unplanned")]


def test_overdue_filter_bad_values_say_why(client, users, contracts):
    client.force_login(users["finance"])
    response = client.get("/api/v1/contracts/", {"overdue": "maybe"})
    assert response.status_code == 400 and "overdue" in response.json()["fields"]
    response = client.get("/api/v1/contracts/", {"overdue": "x" * 5000})
    assert response.status_code == 400 and "overdue" in response.json()["fields"]
    assert page_numbers(client, overdue="x" * 5000) == []  # a bad filter never widens the list


def test_a_salesperson_sees_only_their_own_overdue_contracts(client, users, contracts):
    signed = signed_contract(users["sales_b"], amount="100.00")
    plan(users["finance"], signed, (timezone.localdate() - datetime.timedelta(days=100), "100.00"))
    client.force_login(users["sales_b"])
    assert api_ids(client, overdue="over_90") == [signed.pk]
    client.force_login(users["sales"])
    assert api_ids(client, overdue="over_90") == [contracts["far"].pk]
