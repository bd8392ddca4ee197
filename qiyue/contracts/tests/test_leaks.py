"""A contract or customer a user may not see is never named to them, not even through a
neighbour: a supplement's framework agreement, a communication's contract, a timeline diff,
an export cell, a duplicate warning."""

import csv
import io

import pytest

from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.services import communication_create
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db
SECRET = "机密框架协议SECRET"


@pytest.fixture
def supplement(users):
    """Team A's framework agreement with a supplement an admin gave to team B."""
    framework = make_contract(users["sales"], title=SECRET)
    return make_contract(users["sales_b"], customer=framework.customer, parent=framework,
                                   actor=users["admin"], title="补充协议")


def test_api_does_not_name_an_invisible_framework_agreement(client, users, supplement):
    client.force_login(users["sales_b"])
    data = client.get(f"/api/v1/contracts/{supplement.pk}/").json()
    assert data["parent"] is None and data["parent_number"] is None
    listing = client.get("/api/v1/contracts/").json()
    assert SECRET not in str(listing) and supplement.parent.number not in str(listing)
    client.force_login(users["legal"])
    assert client.get(f"/api/v1/contracts/{supplement.pk}/").json()["parent"] == supplement.parent_id


def test_export_does_not_name_an_invisible_framework_agreement(client, users, supplement):
    client.force_login(users["sales_b"])
    body = b"".join(client.get("/contracts/export/?format=csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 2 and supplement.parent.number not in body


def test_timeline_does_not_name_an_invisible_framework_agreement(client, users, supplement):
    client.force_login(users["sales_b"])
    page = client.get(f"/contracts/{supplement.pk}/").content.decode()
    assert SECRET not in page and supplement.parent.number not in page


def test_communication_does_not_name_an_invisible_contract(client, users):
    customer = make_customer(users["sales"])
    hidden = make_contract(users["sales_b"], customer=customer, actor=users["admin"], title=SECRET)
    communication_create(actor=users["admin"], customer=customer,
                         data={"occurred_on": "2026-05-01", "summary": "电话沟通", "contract": hidden})
    client.force_login(users["sales"])
    data = client.get("/api/v1/communications/").json()["results"]
    assert data[0]["contract"] is None and data[0]["contract_number"] is None
    assert hidden.number not in str(data)


def test_bad_filters_never_widen_a_list_or_an_export(client, users):
    make_contract(users["sales"])
    client.force_login(users["sales"])
    page = client.get("/contracts/?status=bogus")
    assert page.status_code == 200 and 'data-testid="filter-errors"' in page.content.decode()
    assert page.context["page"].paginator.count == 0
    assert client.get("/contracts/export/?format=csv&status=bogus").status_code == 400
    assert client.get("/customers/?level=bogus").context["page"].paginator.count == 0


@pytest.mark.parametrize("url", [
    "/api/v1/contacts/?customer=99999999999999999999999",
    "/api/v1/communications/?contract=99999999999999999999999",
    "/api/v1/audit-events/?contract=99999999999999999999999",
])
def test_huge_ids_in_filters_are_a_400_not_a_500(client, users, url):
    client.force_login(users["admin"])
    response = client.get(url)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_unknown_api_url_answers_in_the_error_shape(client, users):
    client.force_login(users["sales"])
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
