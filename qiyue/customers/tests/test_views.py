import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.models import Communication, Contact, Customer
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

# Credit codes with a valid checksum (GB 32100-2015).
VALID_CODE = "91350100M000100Y43"

ROLES = ["admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor"]
# Which of the three customers (owned by sales, by sales2 in the same team, by sales_b in team B)
# each role sees, and which it may edit.
SEES = {
    "admin": {"own", "team", "other"}, "legal": {"own", "team", "other"}, "finance": {"own", "team", "other"},
    "auditor": {"own", "team", "other"}, "manager": {"own", "team"}, "sales": {"own", "team"},
    "sales2": {"own", "team"}, "sales_b": {"other"}, "manager_b": {"other"},
}
EDITS = {
    "admin": {"own", "team", "other"}, "manager": {"own", "team"}, "sales": {"own", "team"},
    "sales2": {"own", "team"}, "sales_b": {"other"}, "manager_b": {"other"},
    "legal": set(), "finance": set(), "auditor": set(),
}


@pytest.fixture
def three_customers(users):
    return {
        "own": make_customer(users["sales"], name="甲方自有客户有限公司"),
        "team": make_customer(users["sales2"], name="乙方同组客户有限公司"),
        "other": make_customer(users["sales_b"], name="丙方他组客户有限公司"),
    }


def customer_data(**overrides):
    data = {"name": "杭州新客户科技有限公司", "credit_code": "", "industry": "it", "level": "key",
            "address": "杭州市西湖区", "owner": "", "team": "", "tags": "vip, 华东", "notes": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, users, three_customers, role):
    client.force_login(users[role])
    listing = client.get(reverse("customers:list"))
    assert listing.status_code == 200
    listed = {c.pk for c in listing.context["page"].object_list}
    for key, customer in three_customers.items():
        visible = key in SEES[role]
        assert (customer.pk in listed) is visible, (role, key)
        detail = client.get(reverse("customers:detail", args=[customer.pk]))
        assert detail.status_code == (200 if visible else 404), (role, key)
        edit = client.get(reverse("customers:update", args=[customer.pk]))
        expected = 200 if key in EDITS[role] else (403 if visible else 404)
        assert edit.status_code == expected, (role, key)
        if visible:
            assert (b'data-testid="edit-customer"' in detail.content) is (key in EDITS[role])
    create = client.get(reverse("customers:create"))
    assert create.status_code == (200 if role in ("admin", "manager", "sales", "sales2", "sales_b", "manager_b")
                                  else 403)
    assert (b'data-testid="new-customer"' in listing.content) is (create.status_code == 200)


def test_anonymous_is_sent_to_login(client, three_customers):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_detail_records_access_and_shows_360(client, users, three_customers):
    customer = three_customers["own"]
    contract = make_contract(users["sales"], customer=customer, title="年度服务合同")
    make_contract(users["sales"], customer=customer, currency="USD", amount="10.50")
    client.force_login(users["sales"])
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="customer.viewed", customer_id=customer.pk,
                                     actor_id=users["sales"].pk, kind="access").count() == 1
    body = response.content.decode()
    assert contract.number in body and "年度服务合同" in body
    totals = {row["currency"]: row for row in response.context["totals"]}
    assert totals["CNY"]["total"] == contract.amount and totals["USD"]["count"] == 1
    # The timeline (its tab loads it) shows who created the customer.
    timeline = client.get(reverse("customers:timeline", args=[customer.pk])).content.decode()
    assert "created the customer" in timeline


def test_detail_totals_only_count_visible_contracts(client, users, three_customers):
    customer = three_customers["own"]
    make_contract(users["sales"], customer=customer, amount="100.00")
    # An admin gives a contract of this customer to team B: team A must not see it or its amount.
    make_contract(users["sales_b"], customer=customer, amount="999.00", actor=users["admin"])
    client.force_login(users["sales"])
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert [row["total"] for row in response.context["totals"]] == [100]
    assert "999.00" not in response.content.decode()


def test_list_filters_and_htmx_partial(client, users, three_customers):
    client.force_login(users["admin"])
    response = client.get(reverse("customers:list"), {"q": "同组"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "customers/_table.html"
    body = response.content.decode()
    assert "<html" not in body and "乙方同组客户有限公司" in body and "甲方自有客户有限公司" not in body
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("customers:list"), {"q": "同组"})
    assert "<html" in full.content.decode() and 'hx-target="#customer-table"' in full.content.decode()
    by_owner = client.get(reverse("customers:list"), {"owner": users["sales_b"].pk})
    assert [c.name for c in by_owner.context["page"].object_list] == ["丙方他组客户有限公司"]


def test_list_sorting_and_pagination(client, users):
    for n in range(25):
        make_customer(users["sales"], name=f"客户{n:02d}贸易有限公司")
    client.force_login(users["sales"])
    first = client.get(reverse("customers:list"), {"ordering": "-name"})
    names = [c.name for c in first.context["page"].object_list]
    assert len(names) == 20 and names == sorted(names, reverse=True)
    second = client.get(reverse("customers:list"), {"ordering": "-name", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "ordering=-name&amp;page=2" in first.content.decode()


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(client, users):
    client.force_login(users["sales"])
    for _ in range(5):
        make_customer(users["sales"], tags="a,b")
    few = _list_queries(client)
    for _ in range(25):
        make_customer(users["sales2"], tags="c")
    assert _list_queries(client) == few


def test_create_customer(client, users):
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), customer_data(credit_code=VALID_CODE.lower()))
    customer = Customer.objects.get(name="杭州新客户科技有限公司")
    assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.owner == users["sales"] and customer.team == users["sales"].team
    assert customer.credit_code == VALID_CODE and customer.tag_list == ["vip", "华东"]


@pytest.mark.parametrize("overrides,field", [
    ({"name": ""}, "name"),
    ({"name": "长" * 201}, "name"),
    ({"credit_code": "91350100M000100Y44"}, "credit_code"),
    ({"credit_code": "123"}, "credit_code"),
    ({"industry": "space"}, "industry"),
    ({"notes": "x" * 5001}, "notes"),
])
def test_create_bad_input_saves_nothing(client, users, overrides, field):
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), customer_data(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not Customer.objects.exists()


def test_create_owner_outside_team_refused(client, users):
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), customer_data(owner=users["sales_b"].pk))
    assert response.status_code == 400 and "owner" in response.context["form"].errors
    assert not Customer.objects.exists()


def test_duplicate_credit_code_is_a_field_error(client, users):
    make_customer(users["sales"], credit_code=VALID_CODE)
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), customer_data(credit_code=VALID_CODE))
    assert response.status_code == 400 and "credit_code" in response.context["form"].errors
    assert Customer.objects.count() == 1


def test_duplicate_name_warns_then_saves_when_confirmed(client, users):
    make_customer(users["sales"], name="杭州新客户科技有限公司")
    client.force_login(users["sales"])
    # Full-width spaces and another suffix normalise to the same name.
    data = customer_data(name="杭州新客户科技 股份有限公司")
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="duplicate-warning"' in body and 'name="confirm_duplicate"' in body
    assert Customer.objects.count() == 1
    response = client.post(reverse("customers:create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302 and Customer.objects.count() == 2


def test_update_customer_and_stale_version(client, users, three_customers):
    customer = three_customers["own"]
    client.force_login(users["sales"])
    form = client.get(reverse("customers:update", args=[customer.pk])).context["form"]
    assert form["version"].value() == customer.version
    data = customer_data(name=customer.name, level="strategic", owner=users["sales"].pk,
                         team=users["sales"].team_id, version=customer.version)
    response = client.post(reverse("customers:update", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.level == "strategic" and customer.version == 2
    # Someone else's form, opened at version 1, now saves nothing.
    stale = client.post(reverse("customers:update", args=[customer.pk]), {**data, "level": "small", "version": 1})
    assert stale.status_code == 409
    assert "changed this record" in stale.content.decode()
    customer.refresh_from_db()
    assert customer.level == "strategic"


def test_update_forbidden_post(client, users, three_customers):
    client.force_login(users["auditor"])
    customer = three_customers["own"]
    response = client.post(reverse("customers:update", args=[customer.pk]),
                           customer_data(name="改名", version=customer.version))
    assert response.status_code == 403
    client.force_login(users["sales_b"])
    assert client.post(reverse("customers:update", args=[customer.pk]), {}).status_code == 404
    customer.refresh_from_db()
    assert customer.name == "甲方自有客户有限公司"


def test_markup_is_escaped(client, users):
    customer = make_customer(users["sales"], name="<script>alert(1)</script>有限公司",
                                       notes="<img src=x onerror=alert(1)>", tags="<b>bold</b>")
    make_contract(users["sales"], customer=customer, title="<i>title</i>")
    client.force_login(users["sales"])
    for url in (reverse("customers:detail", args=[customer.pk]), reverse("customers:list")):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<b>bold</b>" not in body
    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "<img src=x" not in body and "<i>title</i>" not in body


def test_contacts_add_edit_delete(client, users, three_customers):
    customer = three_customers["own"]
    client.force_login(users["sales2"])
    url = reverse("customers:contact_create", args=[customer.pk])
    response = client.post(url, {"contact-name": "张三", "contact-email": "zhang@example.com",
                                 "contact-is_primary": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "customers/_contacts.html"
    contact = Contact.objects.get(customer=customer)
    assert contact.is_primary and "张三" in response.content.decode()

    bad = client.post(url, {"contact-name": "李四", "contact-email": "not-an-email"}, HTTP_HX_REQUEST="true")
    assert "contact-email" in bad.content.decode() and 'data-testid="error-email"' in bad.content.decode()
    assert Contact.objects.count() == 1
    bad_plain = client.post(url, {"contact-name": ""})
    assert bad_plain.status_code == 400 and "name" in bad_plain.context["form"].errors

    edit_url = reverse("customers:contact_update", args=[customer.pk, contact.pk])
    assert client.get(edit_url).status_code == 200
    response = client.post(edit_url, {"contact-name": "张三丰", "contact-phone": "13800000000"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "张三丰" and not contact.is_primary

    response = client.post(reverse("customers:contact_delete", args=[customer.pk, contact.pk]))
    assert response.status_code == 302 and not Contact.objects.exists()
    assert AuditEvent.objects.filter(action="contact.deleted", customer_id=customer.pk).exists()


def test_contacts_permissions(client, users, three_customers):
    customer = three_customers["own"]
    contact = Contact.objects.create(customer=customer, name="王五")
    url = reverse("customers:contact_create", args=[customer.pk])
    client.force_login(users["auditor"])
    assert client.post(url, {"contact-name": "x"}).status_code == 403
    assert client.post(reverse("customers:contact_delete", args=[customer.pk, contact.pk])).status_code == 403
    assert b'data-testid="contact-form"' not in client.get(reverse("customers:detail", args=[customer.pk])).content
    client.force_login(users["sales_b"])
    assert client.post(url, {"contact-name": "x"}).status_code == 404
    assert client.get(reverse("customers:contact_update", args=[customer.pk, contact.pk])).status_code == 404
    # A contact id of another customer is not found under this one.
    other = three_customers["other"]
    assert client.get(reverse("customers:contact_update", args=[other.pk, contact.pk])).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_communication_add(client, users, three_customers):
    customer = three_customers["own"]
    contract = make_contract(users["sales"], customer=customer)
    foreign = make_contract(users["sales"], customer=three_customers["team"])
    client.force_login(users["sales"])
    url = reverse("customers:communication_create", args=[customer.pk])
    data = {"comm-occurred_on": "2026-03-01", "comm-channel": "phone", "comm-summary": "<b>谈价格</b>",
            "comm-contract": contract.pk}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    record = Communication.objects.get()
    assert record.contract == contract and record.occurred_on == datetime.date(2026, 3, 1)
    assert "&lt;b&gt;谈价格&lt;/b&gt;" in response.content.decode()
    # A contract of another customer is not a valid choice.
    bad = client.post(url, {**data, "comm-contract": foreign.pk})
    assert bad.status_code == 400 and "contract" in bad.context["form"].errors
    missing = client.post(url, {**data, "comm-summary": ""})
    assert missing.status_code == 400 and "summary" in missing.context["form"].errors
    assert Communication.objects.count() == 1
