"""Customer, contact and communication API: output shape, writes through the services,
duplicate warnings, optimistic locking and who sees what."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.models import Communication, Contact, Customer
from qiyue.customers.tests.factories import make_credit_code, make_customer

URL = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
COMMUNICATIONS = "/api/v1/communications/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(customer) -> str:
    return f"{URL}{customer.pk}/"


@pytest.fixture
def customer(users):
    return make_customer(users["sales"], name="上海明远信息技术有限公司",
                                   credit_code=make_credit_code(), tags="重点,华东")


def test_retrieve_shape_and_access_event(users, customer):
    response = client_for(users["sales"]).get(detail(customer))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == customer.name and body["credit_code"] == customer.credit_code
    assert body["tags"] == ["重点", "华东"]
    assert (body["owner"], body["owner_name"]) == (users["sales"].pk, str(users["sales"]))
    assert (body["team"], body["team_name"]) == (users["sales"].team_id, users["sales"].team.name)
    assert body["level"] == "regular" and body["level_display"]
    assert body["version"] == 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.target_id, event.kind) == ("customer.viewed", str(customer.pk), "access")


def test_create_folds_credit_code_and_tags(users):
    code = make_credit_code()
    payload = {"name": "杭州青禾贸易有限公司", "credit_code": f" {code.lower()} ", "industry": "retail",
               "tags": ["批发", "华东", "批发"]}
    response = client_for(users["sales"]).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["credit_code"], body["tags"], body["industry"]) == (code, ["批发", "华东"], "retail")
    assert Customer.objects.get(pk=body["id"]).owner == users["sales"]
    assert AuditEvent.objects.filter(action="customer.created", target_id=str(body["id"])).count() == 1


def test_create_without_credit_code(users):
    response = client_for(users["sales"]).post(URL, {"name": "John Smith", "credit_code": ""}, format="json")
    assert response.status_code == 201
    assert response.json()["credit_code"] is None


def test_near_duplicate_name_needs_confirmation(users, customer):
    client = client_for(users["sales"])
    twin = {"name": "上海明远信息技术股份有限公司"}
    refused = client.post(URL, twin, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "duplicate_customer"
    assert "name" in refused.json()["fields"]
    assert Customer.objects.count() == 1
    confirmed = client.post(URL, {**twin, "confirm_duplicate": True}, format="json")
    assert confirmed.status_code == 201
    assert Customer.objects.count() == 2


def test_rename_to_near_duplicate_needs_confirmation(users, customer):
    other = make_customer(users["sales"], name="北京远景")
    client = client_for(users["sales"])
    refused = client.patch(detail(other), {"name": "上海明远信息技术", "version": 1}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "duplicate_customer"
    ok = client.patch(detail(other), {"name": "上海明远信息技术", "version": 1, "confirm_duplicate": True},
                      format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2


def test_two_clients_stale_version_gets_409(users, customer):
    first, second = client_for(users["sales"]), client_for(users["manager"])
    v1 = first.get(detail(customer)).json()["version"]
    assert second.get(detail(customer)).json()["version"] == v1 == 1

    ok = first.patch(detail(customer), {"address": "浦东新区 1 号", "version": v1}, format="json")
    stale = second.patch(detail(customer), {"address": "徐汇区 2 号", "version": v1}, format="json")

    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    customer.refresh_from_db()
    assert (customer.address, customer.version) == ("浦东新区 1 号", 2)


def test_update_requires_version(users, customer):
    response = client_for(users["sales"]).patch(detail(customer), {"address": "x"}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"version": ["required"]}


def test_no_delete(users, customer):
    assert client_for(users["admin"]).delete(detail(customer)).status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_list_filters_and_sorting(users):
    for name, level in (("甲公司", "key"), ("乙公司", "regular"), ("丙公司", "key")):
        make_customer(users["sales"], name=name, level=level)
    client = client_for(users["sales"])
    assert client.get(URL, {"level": "key"}).json()["count"] == 2
    assert [r["name"] for r in client.get(URL, {"q": "乙"}).json()["results"]] == ["乙公司"]
    names = [r["name"] for r in client.get(URL, {"ordering": "-name"}).json()["results"]]
    assert names == sorted(names, reverse=True)
    assert client.get(URL, {"level": "nonsense"}).status_code == 400


# Objects: A1 owned by sales (team A), A2 owned by sales2 (team A), B owned by sales_b (team B).
ALL = {"A1", "A2", "B"}
MATRIX = {
    "admin": (ALL, ALL),
    "manager": ({"A1", "A2"}, {"A1", "A2"}),
    "sales": ({"A1", "A2"}, {"A1", "A2"}),
    "sales_b": ({"B"}, {"B"}),
    "manager_b": ({"B"}, {"B"}),
    "legal": (ALL, set()),
    "finance": (ALL, set()),
    "auditor": (ALL, set()),
}


@pytest.fixture
def matrix(users):
    made = {key: make_customer(users[owner]) for key, owner in
            (("A1", "sales"), ("A2", "sales2"), ("B", "sales_b"))}
    for key, item in made.items():
        Contact.objects.create(customer=item, name=f"联系人{key}")
        Communication.objects.create(customer=item, occurred_on="2026-01-01", summary=key,
                                     author=item.owner)
    return made


@pytest.mark.parametrize("role", MATRIX)
def test_matrix_lists(users, matrix, role):
    visible, _ = MATRIX[role]
    client = client_for(users[role])
    ids = {matrix[k].pk for k in visible}
    body = client.get(URL).json()
    assert body["count"] == len(visible) and {r["id"] for r in body["results"]} == ids
    assert {r["customer"] for r in client.get(CONTACTS).json()["results"]} == ids
    assert {r["customer"] for r in client.get(COMMUNICATIONS).json()["results"]} == ids


@pytest.mark.parametrize("role", MATRIX)
@pytest.mark.parametrize("key", sorted(ALL))
def test_matrix_detail_and_update(users, matrix, role, key):
    visible, editable = MATRIX[role]
    customer = matrix[key]
    client = client_for(users[role])
    contact = customer.contacts.get()

    got = client.get(detail(customer))
    patched = client.patch(detail(customer), {"address": "改", "version": 1}, format="json")
    contact_got = client.get(f"{CONTACTS}{contact.pk}/")
    contact_patched = client.patch(f"{CONTACTS}{contact.pk}/", {"title": "改"}, format="json")
    noted = client.post(COMMUNICATIONS, {"customer": customer.pk, "occurred_on": "2026-02-01",
                                         "channel": "phone", "summary": "回访"}, format="json")

    if key not in visible:
        assert [got.status_code, patched.status_code, contact_got.status_code,
                contact_patched.status_code] == [404] * 4
        assert noted.status_code == 400 and noted.json()["field_codes"] == {"customer": ["does_not_exist"]}
    elif key not in editable:
        assert [got.status_code, contact_got.status_code] == [200, 200]
        assert [patched.status_code, contact_patched.status_code, noted.status_code] == [403] * 3
    else:
        assert [got.status_code, patched.status_code, contact_got.status_code, contact_patched.status_code,
                noted.status_code] == [200, 200, 200, 200, 201]
    customer.refresh_from_db()
    assert (customer.address == "改") == (key in editable)
    assert customer.communications.count() == (2 if key in editable else 1)


@pytest.mark.parametrize("role", ["legal", "finance", "auditor"])
def test_read_only_roles_cannot_create(users, role):
    response = client_for(users[role]).post(URL, {"name": "只读角色公司"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Customer.objects.exists()


def test_contacts_crud(users, customer):
    client = client_for(users["sales"])
    created = client.post(CONTACTS, {"customer": customer.pk, "name": "王经理", "email": "wang@example.cn",
                                     "is_primary": True}, format="json")
    assert created.status_code == 201, created.json()
    contact_id = created.json()["id"]
    assert created.json()["customer_name"] == customer.name
    assert client.get(CONTACTS, {"customer": customer.pk}).json()["count"] == 1
    assert client.patch(f"{CONTACTS}{contact_id}/", {"phone": "13800000000"}, format="json").json()[
        "phone"] == "13800000000"
    assert client.delete(f"{CONTACTS}{contact_id}/").status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()
    actions = list(AuditEvent.objects.filter(target_type="customers.contact").order_by("seq")
                   .values_list("action", flat=True))
    assert actions == ["contact.created", "contact.updated", "contact.deleted"]


def test_contact_bad_email(users, customer):
    response = client_for(users["sales"]).post(CONTACTS, {"customer": customer.pk, "name": "王",
                                                          "email": "not-an-email"}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"email": ["invalid"]}
    assert not Contact.objects.exists()


def test_communications_create_list_retrieve(users, customer):
    contract = make_contract(users["sales"], customer=customer)
    client = client_for(users["sales"])
    created = client.post(COMMUNICATIONS, {"customer": customer.pk, "contract": contract.pk,
                                           "occurred_on": "2026-03-01", "channel": "wechat",
                                           "summary": "确认交付"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["author"], body["contract_number"], body["channel_display"]) == (
        users["sales"].pk, contract.number, body["channel_display"])
    assert client.get(f"{COMMUNICATIONS}{body['id']}/").json()["summary"] == "确认交付"
    assert client.get(COMMUNICATIONS, {"channel": "wechat"}).json()["count"] == 1
    assert client.get(COMMUNICATIONS, {"channel": "phone"}).json()["count"] == 0
    assert client.delete(f"{COMMUNICATIONS}{body['id']}/").status_code == 405


def test_communication_with_another_customers_contract(users, customer):
    other = make_contract(users["sales"])
    response = client_for(users["sales"]).post(COMMUNICATIONS, {
        "customer": customer.pk, "contract": other.pk, "occurred_on": "2026-03-01", "summary": "x"},
        format="json")
    assert response.status_code == 400 and "contract" in response.json()["fields"]
    assert not Communication.objects.exists()


@pytest.mark.parametrize("url", [URL, CONTACTS, COMMUNICATIONS])
def test_list_query_count_does_not_grow(users, url):
    def add(n):
        for _ in range(n):
            item = make_customer(users["sales"])
            Contact.objects.create(customer=item, name="联系人")
            Communication.objects.create(customer=item, occurred_on="2026-01-01", summary="s",
                                         author=users["sales"])

    client = client_for(users["sales"])
    add(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).json()["count"] == 1
    add(5)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).json()["count"] == 6
    assert len(many) == len(few)


# --- assignment edges: the team stays, the owner can edit ------------------------------------------

HOSTILE_IDS = [999_999_999, 10**20, -1, "abc", "1.5", [1], {"id": 1}, True]


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_team_editor_cannot_clear_the_team(users, role):
    customer = make_customer(users[role])
    client = client_for(users[role])
    response = client.patch(detail(customer), {"team": None, "version": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field_codes"] == {"team": ["invalid"]}
    response = client.post(URL, {"name": "无团队公司", "team": None}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"team": ["invalid"]}
    customer.refresh_from_db()
    assert customer.team_id == users[role].team_id and customer.version == 1
    assert not Customer.objects.filter(name="无团队公司").exists()
    # Their manager still finds it.
    assert client_for(users["manager"]).get(detail(customer)).status_code == 200


def test_team_editor_cannot_move_a_customer_to_another_team(users, team_b):
    customer = make_customer(users["sales"])
    response = client_for(users["sales"]).patch(detail(customer), {"team": team_b.pk, "version": 1}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"team": ["invalid"]}


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_team_of_hostile_value_is_refused(users, value):
    customer = make_customer(users["sales"])
    response = client_for(users["sales"]).patch(detail(customer), {"team": value, "version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"team"}
    customer.refresh_from_db()
    assert customer.team_id == users["sales"].team_id and customer.version == 1


def test_admin_may_clear_the_team(users):
    customer = make_customer(users["sales"])
    response = client_for(users["admin"]).patch(detail(customer), {"team": None, "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["team"] is None


@pytest.mark.parametrize("role", ["legal", "finance", "auditor"])
@pytest.mark.parametrize("actor", ["admin", "sales", "manager"])
def test_owner_must_have_an_owner_role(users, role, actor):
    customer = make_customer(users["sales"])
    client = client_for(users[actor])
    response = client.patch(detail(customer), {"owner": users[role].pk, "version": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field_codes"] == {"owner": ["invalid"]}
    response = client.post(URL, {"name": "无主公司", "owner": users[role].pk}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"owner": ["invalid"]}
    customer.refresh_from_db()
    assert customer.owner_id == users["sales"].pk and customer.version == 1
    assert not Customer.objects.filter(name="无主公司").exists()


def test_owner_cannot_be_an_inactive_user(users):
    from qiyue.core.errors import ApplicationError
    from qiyue.customers.services import customer_create

    gone = users["sales2"]
    gone.is_active = False
    gone.save()
    customer = make_customer(users["sales"])
    response = client_for(users["admin"]).patch(detail(customer), {"owner": gone.pk, "version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"owner"}
    with pytest.raises(ApplicationError) as caught:
        customer_create(actor=users["admin"], data={"name": "离职者公司", "owner": gone})
    assert caught.value.code == "invalid" and set(caught.value.fields) == {"owner"}
    assert not Customer.objects.filter(name="离职者公司").exists()


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_owner_of_hostile_value_is_refused(users, value):
    customer = make_customer(users["sales"])
    response = client_for(users["admin"]).patch(detail(customer), {"owner": value, "version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"owner"}
    customer.refresh_from_db()
    assert customer.owner_id == users["sales"].pk


def test_assignment_errors_speak_the_users_language(users):
    customer = make_customer(users["sales"])
    client = client_for(users["sales"])
    zh = client.patch(detail(customer), {"team": None, "version": 1}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.patch(detail(customer), {"team": None, "version": 1}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["fields"] == {"team": ["您的记录必须保留在您所在的团队中。"]}
    assert en.json()["fields"] == {"team": ["A record of yours must stay in your team."]}
    zh = client_for(users["admin"]).patch(detail(customer), {"owner": users["legal"].pk, "version": 1},
                                          format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.json()["fields"] == {"owner": ["请选择在职的管理员、经理或销售人员。"]}


# --- the communications' contract filter names only a contract the user may see -------------------

@pytest.fixture
def noted(users):
    """A communication on team A's customer about a contract of team B (an admin's doing, on the same
    customer): team A sees the communication, not the contract."""
    customer = make_customer(users["sales"])
    own = make_contract(users["sales"], customer=customer)
    foreign = make_contract(users["sales_b"], customer=customer, actor=users["admin"])
    made = {}
    for key, contract in (("own", own), ("foreign", foreign)):
        made[key] = Communication.objects.create(customer=customer, contract=contract, occurred_on="2026-01-01",
                                                 summary=key, author=users["admin"])
    return {"own": own, "foreign": foreign, **{f"note_{k}": v for k, v in made.items()}}


def test_contract_filter_lists_communications_of_a_visible_contract(users, noted):
    client = client_for(users["sales"])
    body = client.get(COMMUNICATIONS, {"contract": noted["own"].pk}).json()
    assert [row["id"] for row in body["results"]] == [noted["note_own"].pk]
    assert client.get(COMMUNICATIONS).json()["count"] == 2  # both notes are on a visible customer
    body = client_for(users["admin"]).get(COMMUNICATIONS, {"contract": noted["foreign"].pk}).json()
    assert [row["id"] for row in body["results"]] == [noted["note_foreign"].pk]


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_contract_filter_refuses_an_invisible_contract(users, noted, role):
    response = client_for(users[role]).get(COMMUNICATIONS, {"contract": noted["foreign"].pk})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and set(response.json()["field_codes"]) == {"contract"}
    assert "results" not in response.json()


@pytest.mark.parametrize("value", ["999999999", str(10**20), str(2**63), "-1", "0", "abc", "1.5", "[1]"])
def test_contract_filter_refuses_hostile_values(users, noted, value):
    response = client_for(users["admin"]).get(COMMUNICATIONS, {"contract": value})
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"contract"}


def test_contract_filter_treats_a_deleted_contract_as_unknown(users, noted):
    import datetime

    from qiyue.contracts.models import Contract

    Contract.objects.filter(pk=noted["own"].pk).update(deleted_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    response = client_for(users["admin"]).get(COMMUNICATIONS, {"contract": noted["own"].pk})
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"contract"}
