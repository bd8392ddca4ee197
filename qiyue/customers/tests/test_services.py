import datetime

import pytest
from django.core.exceptions import ValidationError

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError
from qiyue.customers.models import Communication, Contact, Customer
from qiyue.customers.services import (
    communication_create,
    contact_create,
    contact_delete,
    contact_update,
    customer_create,
    customer_update,
)
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_create_normalises_and_audits(users):
    customer = customer_create(actor=users["sales"], data={
        "name": "  上海明德精密机械有限公司 ", "credit_code": " 91350100m000100y43", "tags": "重点，制造"})
    assert customer.name == "上海明德精密机械有限公司"
    assert customer.credit_code == "91350100M000100Y43"
    assert customer.tag_list == ["重点", "制造"]
    assert customer.owner == users["sales"] and customer.team == users["sales"].team
    event = AuditEvent.objects.get(customer_id=customer.pk)
    assert event.action == "customer.created" and event.changes["name"] == [None, customer.name]


def test_duplicate_name_warns_until_confirmed(users):
    customer_create(actor=users["sales"], data={"name": "上海明德精密机械有限公司"})
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=users["sales"], data={"name": "上海明德精密机械股份有限公司"})
    assert exc.value.code == "duplicate_customer" and "name" in exc.value.fields
    assert Customer.objects.count() == 1
    customer_create(actor=users["sales"], data={"name": "上海明德精密机械股份有限公司"}, confirm_duplicate=True)
    assert Customer.objects.count() == 2


def test_duplicate_warning_sees_customers_of_other_teams_without_naming_them(users):
    customer_create(actor=users["sales_b"], data={"name": "深圳华信电子有限公司"})
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=users["sales"], data={"name": "深圳华信电子"})
    assert exc.value.code == "duplicate_customer"
    assert "华信" not in exc.value.message and "华信" not in str(exc.value.fields)
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=users["admin"], data={"name": "深圳华信电子"})
    assert "深圳华信电子有限公司" in exc.value.message


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "credit_code_checksum"),
        ({"credit_code": "12345"}, "credit_code", "credit_code_length"),
        ({"industry": "mining-on-mars"}, "industry", "invalid_choice"),
        ({"name": "名" * 201}, "name", "max_length"),
        ({"name": "   "}, "name", "blank"),
    ],
)
def test_bad_customer_input(users, data, field, code):
    payload = {"name": "杭州云栖科技有限公司", **data}
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=users["sales"], data=payload)
    assert code in [e.code for e in exc.value.error_dict[field]]
    assert Customer.objects.count() == 0 and AuditEvent.objects.filter(action="customer.created").count() == 0


def test_credit_code_is_optional_but_unique(users):
    customer_create(actor=users["sales"], data={"name": "Acme GmbH", "credit_code": ""})
    customer_create(actor=users["sales"], data={"name": "Globex Ltd", "credit_code": ""})
    customer_create(actor=users["sales"], data={"name": "甲公司", "credit_code": "91350100M000100Y43"})
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=users["sales"], data={"name": "乙公司", "credit_code": "91350100M000100Y43"})
    assert [e.code for e in exc.value.error_dict["credit_code"]] == ["unique"]


def test_update_with_stale_version(users):
    customer = make_customer(users["sales"])
    customer_update(actor=users["sales"], customer=customer, data={"address": "上海市浦东新区"}, expected_version=1)
    with pytest.raises(ApplicationError) as exc:
        customer_update(actor=users["sales2"], customer=customer, data={"address": "北京"}, expected_version=1)
    assert exc.value.code == "stale_version"
    customer.refresh_from_db()
    assert customer.address == "上海市浦东新区" and customer.version == 2


@pytest.mark.parametrize("who", ["legal", "finance", "auditor", "sales_b"])
def test_non_editors_cannot_update(users, who):
    customer = make_customer(users["sales"])
    with pytest.raises(ApplicationError) as exc:
        customer_update(actor=users[who], customer=customer, data={"notes": "x"}, expected_version=None)
    assert exc.value.code == "permission_denied"


@pytest.mark.parametrize("who", ["legal", "finance", "auditor"])
def test_read_only_roles_cannot_create(users, who):
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=users[who], data={"name": "丙公司"})
    assert exc.value.code == "permission_denied"


def test_contacts_and_communications_are_audited_on_the_customer(users):
    customer = make_customer(users["sales"])
    contact = contact_create(actor=users["sales"], customer=customer,
                             data={"name": "王经理", "phone": "13800000000", "email": "wang@example.com"})
    contact_update(actor=users["sales"], contact=contact, data={"title": "采购总监"})
    contract = make_contract(users["sales"], customer=customer)
    note = communication_create(actor=users["sales"], customer=customer, data={
        "occurred_on": datetime.date(2026, 3, 2), "channel": "visit", "summary": "上门拜访", "contract": contract})
    contact_delete(actor=users["sales"], contact=contact)
    assert not Contact.objects.exists() and Communication.objects.get() == note
    actions = list(AuditEvent.objects.filter(customer_id=customer.pk).order_by("seq").values_list("action", flat=True))
    assert actions == ["customer.created", "contact.created", "contact.updated", "contract.created",
                       "communication.created", "contact.deleted"]
    assert AuditEvent.objects.get(action="communication.created").contract_id == contract.pk


def test_bad_contact_email(users):
    customer = make_customer(users["sales"])
    with pytest.raises(ValidationError) as exc:
        contact_create(actor=users["sales"], customer=customer, data={"name": "李", "email": "not-an-email"})
    assert "email" in exc.value.error_dict


def test_communication_contract_must_be_the_customers(users):
    customer = make_customer(users["sales"])
    other_contract = make_contract(users["sales"])
    with pytest.raises(ApplicationError) as exc:
        communication_create(actor=users["sales"], customer=customer, data={
            "occurred_on": datetime.date(2026, 3, 2), "summary": "电话", "contract": other_contract})
    assert "contract" in exc.value.fields
    assert not Communication.objects.exists()
