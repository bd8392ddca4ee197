"""A customer's invoicing details (开票信息): kept through the services, the form and the API, a bad
taxpayer ID refused with its field, every change audited, shown on the customer's page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.customers.models import Customer
from qiyue.customers.services import customer_update
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db
DETAILS = {"invoice_title": "上海明德精密机械有限公司", "taxpayer_id": "91310114MA1GT0R04K",
           "invoice_address_phone": "上海市嘉定区安亭镇墨玉路185号 021-69571234",
           "invoice_bank_account": "招商银行上海嘉定支行 121909876510301"}


def test_the_details_are_kept_and_audited(users):
    customer = make_customer(users["sales"])
    customer_update(actor=users["sales"], customer=customer, data=DETAILS, expected_version=customer.version)
    customer.refresh_from_db()
    assert {k: getattr(customer, k) for k in DETAILS} == DETAILS
    changes = AuditEvent.objects.filter(action="customer.updated").latest("id").changes
    assert changes["taxpayer_id"] == ["", "91310114MA1GT0R04K"]


@pytest.mark.parametrize("value", ["123", "91310114ma1gt0r04k", "9131011-MA1GT0R04", "1" * 16, "1" * 21])
def test_a_bad_taxpayer_id_is_refused_with_its_field(users, value):
    customer = make_customer(users["sales"])
    with pytest.raises(ValidationError) as caught:  # the services' own error for a field (views show it there)
        customer_update(actor=users["sales"], customer=customer, data={"taxpayer_id": value},
                        expected_version=customer.version)
    assert "taxpayer_id" in caught.value.message_dict
    assert Customer.objects.get(pk=customer.pk).taxpayer_id == ""


@pytest.mark.parametrize("value", ["110108000000016", "11010800000001600", "91310114MA1GT0R04K",
                                   "11010800000001600012"])
def test_the_lengths_taxpayer_ids_have(users, value):
    customer = make_customer(users["sales"])
    customer_update(actor=users["sales"], customer=customer, data={"taxpayer_id": value},
                    expected_version=customer.version)


def test_the_api_and_the_page(client, users):
    customer = make_customer(users["sales"])
    client.force_login(users["sales"])
    response = client.patch(f"/api/v1/customers/{customer.pk}/", {**DETAILS, "version": customer.version},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["taxpayer_id"] == DETAILS["taxpayer_id"]
    bad = client.patch(f"/api/v1/customers/{customer.pk}/", {"taxpayer_id": "x" * 25, "version": 2},
                       content_type="application/json")
    assert bad.status_code == 400 and "taxpayer_id" in bad.json()["fields"]
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="customer-invoicing"' in html and DETAILS["invoice_bank_account"] in html
    form = client.get(reverse("customers:update", args=[customer.pk])).content.decode()
    assert 'data-testid="invoicing-details"' in form and 'name="taxpayer_id"' in form
