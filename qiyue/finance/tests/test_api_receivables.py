"""The receivables API: the installments still owed on the contracts one sees, filtered as on the page,
with hostile filters refused in the common error shape; and the per-currency summary with its aging."""

import datetime

import pytest

from qiyue.finance import services
from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db
day = datetime.date
URL = "/api/v1/receivables/"


@pytest.fixture
def owed(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    plan(users["finance"], contract, (day(2026, 2, 1), "30000.00"), (day(2026, 4, 1), "50000.00"),
         (day(2099, 6, 1), "20000.00"))
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "10000.00", "received_on": day(2026, 2, 5)})
    dollars = signed_contract(users["sales_b"], amount="500.00", currency="USD")
    plan(users["finance"], dollars, (day(2026, 3, 1), "500.00"))
    return contract


def test_the_list_is_scoped_filtered_and_as_of_a_day(client, users, owed):
    client.force_login(users["sales"])
    body = client.get(URL).json()
    rows = body["results"]
    assert [(r["contract_number"], r["position"], r["outstanding"]) for r in rows] == [
        (owed.number, 1, "20000.00"), (owed.number, 2, "50000.00"), (owed.number, 3, "20000.00")]
    assert rows[0]["received"] == "10000.00" and rows[0]["aging_bucket"] == "over_90" and rows[0]["days_overdue"] > 90
    assert rows[2]["aging_bucket"] == "not_due" and rows[0]["customer"] == owed.customer_id
    assert len(client.get(URL, {"bucket": "not_due"}).json()["results"]) == 1
    assert len(client.get(URL, {"due_after": "2026-03-01", "due_before": "2026-04-30"}).json()["results"]) == 1
    assert client.get(URL, {"currency": "USD"}).json()["results"] == []  # another team's
    # As of 3 February the first installment had received nothing yet and was 2 days overdue.
    first = client.get(URL, {"as_of": "2026-02-03"}).json()["results"][0]
    assert (first["received"], first["outstanding"], first["aging_bucket"]) == ("0.00", "30000.00", "d1_30")
    client.force_login(users["finance"])
    assert {r["currency"] for r in client.get(URL).json()["results"]} == {"CNY", "USD"}


@pytest.mark.parametrize("params, field", [
    ({"as_of": "2999-01-01"}, "as_of"), ({"as_of": "junk"}, "as_of"), ({"bucket": "ancient"}, "bucket"),
    ({"currency": "xyz1"}, "currency"), ({"customer": "abc"}, "customer"), ({"owner": "-1"}, "owner"),
    ({"owner": "9" * 30}, "owner"), ({"contract": "x" * 65}, "contract"), ({"due_after": "2026-02-30"}, "due_after"),
    ({"due_after": "2026-05-01", "due_before": "2026-04-30"}, "due_before")])
def test_hostile_filters_are_a_clear_400(client, users, owed, params, field):
    client.force_login(users["finance"])
    response = client.get(URL, params)
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_the_summary_adds_up_per_currency_never_across(client, users, owed):
    client.force_login(users["finance"])
    summary = client.get(URL + "summary/").json()
    assert [row["currency"] for row in summary] == ["CNY", "USD"]
    cny, usd = summary
    assert (cny["outstanding"], cny["overdue"], cny["aging"]["not_due"], cny["aging"]["over_90"]) == (
        "90000.00", "70000.00", "20000.00", "70000.00")
    assert usd["outstanding"] == usd["overdue"] == "500.00"
    client.force_login(users["sales_b"])
    assert [row["currency"] for row in client.get(URL + "summary/").json()] == ["USD"]
    client.logout()
    assert client.get(URL + "summary/").status_code in (401, 403)
