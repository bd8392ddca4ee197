"""Contract API: shape of the output, CRUD through the services, optimistic locking, every
transition endpoint, the permission matrix and the list's query count."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, Status
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.customers.tests.factories import make_customer
from qiyue.workflow.tests.factories import approve_through

URL = "/api/v1/contracts/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(contract) -> str:
    return f"{URL}{contract.pk}/"


def move(contract, actor, *names, **kwargs):
    for name in names:
        contract = contract_transition(actor=actor, contract=contract, name=name, **kwargs,
                                       via_workflow=TRANSITIONS[name].workflow)
    return contract


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], tags="框架,重点", amount=Decimal("1234.5"))


# --- output and CRUD ---------------------------------------------------------------------------

def test_retrieve_shape_and_access_event(users, contract):
    framework = contract
    supplement = make_contract(users["sales"], customer=framework.customer, parent=framework)
    before = AuditEvent.objects.filter(action="contract.viewed").count()

    response = client_for(users["sales"]).get(detail(framework))

    assert response.status_code == 200
    body = response.json()
    assert body["amount"] == "1234.50"
    assert body["tax_rate"] == "0.00"
    assert body["tags"] == ["框架", "重点"]
    assert body["customer"] == framework.customer_id
    assert body["customer_name"] == framework.customer.name
    assert body["owner"] == users["sales"].pk and body["owner_name"] == str(users["sales"])
    assert body["team"] == users["sales"].team_id and body["team_name"] == users["sales"].team.name
    assert body["status"] == "draft" and body["status_display"]
    assert set(body["available_transitions"]) == {"submit", "cancel"}
    assert body["supplements"] == [supplement.pk]
    assert body["version"] == 1
    assert AuditEvent.objects.filter(action="contract.viewed").count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.target_id, event.actor_id) == ("contract.viewed", str(framework.pk),
                                                               users["sales"].pk)

    child = client_for(users["sales"]).get(detail(supplement)).json()
    assert child["parent"] == framework.pk and child["parent_number"] == framework.number


def test_available_transitions_follow_the_user(users, contract):
    move(contract, users["sales"], "submit")
    assert client_for(users["sales"]).get(detail(contract)).json()["available_transitions"] == []
    # Approving is the approval's (/api/v1/contracts/{id}/approval/), not a status action.
    assert client_for(users["legal"]).get(detail(contract)).json()["available_transitions"] == []
    assert client_for(users["auditor"]).get(detail(contract)).json()["available_transitions"] == []


def test_create(users):
    customer = make_customer(users["sales"])
    payload = {"title": "年度服务合同", "customer": customer.pk, "amount": "5000.10", "currency": "USD",
               "effective_date": "2026-01-01", "expiry_date": "2026-12-31", "nature": "service",
               "tags": ["年度", "服务"]}

    response = client_for(users["sales"]).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("HT-")
    assert (body["amount"], body["currency"], body["tags"]) == ("5000.10", "USD", ["年度", "服务"])
    assert body["owner"] == users["sales"].pk and body["status"] == "draft"
    contract = Contract.objects.get(pk=body["id"])
    assert contract.tags == "年度,服务" and contract.amount == Decimal("5000.10")
    assert AuditEvent.objects.filter(action="contract.created", target_id=str(contract.pk)).count() == 1


def test_create_refuses_decimals_the_currency_does_not_have(users):
    customer = make_customer(users["sales"])
    payload = {"title": "日元采购合同", "customer": customer.pk, "amount": "100.50", "currency": "JPY"}
    response = client_for(users["sales"]).post(URL, payload, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"amount": ["amount_decimals"]}
    assert not Contract.objects.exists()


def test_create_accepts_tags_as_text(users):
    customer = make_customer(users["sales"])
    response = client_for(users["sales"]).post(URL, {"title": "t", "customer": customer.pk,
                                                     "tags": "甲，乙、甲"}, format="json")
    assert response.status_code == 201
    assert response.json()["tags"] == ["甲", "乙"]


def test_patch_requires_version(users, contract):
    response = client_for(users["sales"]).patch(detail(contract), {"title": "新标题"}, format="json")
    assert response.status_code == 400
    assert response.json()["field_codes"] == {"version": ["required"]}
    contract.refresh_from_db()
    assert contract.title != "新标题"


def test_patch_updates_and_bumps_version(users, contract):
    response = client_for(users["sales"]).patch(detail(contract), {"title": "新标题", "version": 1},
                                                format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "新标题" and response.json()["version"] == 2
    assert AuditEvent.objects.filter(action="contract.updated", target_id=str(contract.pk)).count() == 1


def test_put_replaces(users, contract):
    payload = {"title": "整体替换", "customer": contract.customer_id, "amount": "1.00", "version": 1}
    response = client_for(users["sales"]).put(detail(contract), payload, format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["amount"]) == ("整体替换", "1.00")


def test_two_clients_stale_version_gets_409(users, contract):
    first, second = client_for(users["sales"]), client_for(users["sales2"])
    seen_first = first.get(detail(contract)).json()["version"]
    seen_second = second.get(detail(contract)).json()["version"]
    assert seen_first == seen_second == 1

    ok = first.patch(detail(contract), {"title": "第一个人的标题", "version": seen_first}, format="json")
    stale = second.patch(detail(contract), {"title": "第二个人的标题", "version": seen_second}, format="json")

    assert ok.status_code == 200
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    contract.refresh_from_db()
    assert contract.title == "第一个人的标题" and contract.version == 2


def test_delete_needs_a_reason_and_is_soft(users, contract):
    # Deletion (archive issue, qiyue/archive/tests) is soft and needs a reason.
    response = client_for(users["admin"]).delete(detail(contract))
    assert response.status_code == 400 and response.json()["code"] == "reason_required"
    assert Contract.objects.filter(pk=contract.pk, deleted_at__isnull=True).exists()


# --- lists ------------------------------------------------------------------------------------

def test_list_is_paginated_filtered_and_sorted(users):
    customer = make_customer(users["sales"])
    for amount in ("300", "100", "200"):
        make_contract(users["sales"], customer=customer, amount=Decimal(amount))
    other = make_contract(users["sales"], currency="USD")
    client = client_for(users["sales"])

    body = client.get(URL, {"customer": customer.pk, "ordering": "amount"}).json()
    assert body["count"] == 3
    assert [row["amount"] for row in body["results"]] == ["100.00", "200.00", "300.00"]
    assert [r["amount"] for r in client.get(URL, {"customer": customer.pk, "ordering": "-amount"})
            .json()["results"]] == ["300.00", "200.00", "100.00"]

    assert [r["id"] for r in client.get(URL, {"currency": "usd"}).json()["results"]] == [other.pk]
    page = client.get(URL, {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    in_range = {"status": "draft", "amount_min": "150", "amount_max": "1000"}
    assert client.get(URL, in_range).json()["count"] == 2


def test_list_rejects_bad_filter_values(users):
    response = client_for(users["sales"]).get(URL, {"status": "nonsense"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "status" in response.json()["field_codes"]


def test_list_query_count_does_not_grow(users):
    client = client_for(users["sales"])
    framework = make_contract(users["sales"])
    make_contract(users["sales"], customer=framework.customer, parent=framework)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for _ in range(5):
        make_contract(users["sales2"], customer=framework.customer, parent=framework)
        make_contract(users["sales"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 12
    assert len(many) == len(few)


def test_supplements_only_lists_visible_ones(users):
    framework = make_contract(users["admin"])
    seen = make_contract(users["sales"], customer=framework.customer, parent=framework,
                                   actor=users["admin"])
    make_contract(users["sales_b"], customer=framework.customer, parent=framework,
                            actor=users["admin"])
    assert len(client_for(users["admin"]).get(detail(framework)).json()["supplements"]) == 2
    assert client_for(users["legal"]).get(detail(framework)).json()["supplements"].__len__() == 2
    # sales can see the supplement (own) but not the framework (admin's, no team)
    assert client_for(users["sales"]).get(detail(framework)).status_code == 404
    # The framework agreement is not the reader's to see: not even its id is given.
    assert client_for(users["sales"]).get(detail(seen)).json()["parent"] is None


# --- transitions -------------------------------------------------------------------------------

def post(client, contract, name, **data):
    return client.post(f"{detail(contract)}{name}/", data, format="json")


def test_whole_lifecycle_through_the_api(users, contract):
    sales, manager = client_for(users["sales"]), client_for(users["manager"])
    assert post(sales, contract, "submit").json()["status"] == "in_review"
    assert post(manager, contract, "approve").status_code == 404  # no such action: approval decides
    assert approve_through(contract).status == "approved"
    signed = post(sales, contract, "sign", signing_method="company_seal", signing_date="2026-01-05")
    assert signed.status_code == 200
    assert (signed.json()["status"], signed.json()["signing_method"], signed.json()["signing_date"]) == (
        "signed", "company_seal", "2026-01-05")
    assert post(sales, contract, "activate").json()["status"] == "active"
    done = post(sales, contract, "complete")
    assert done.json()["status"] == "completed" and done.json()["version"] == 6
    actions = list(AuditEvent.objects.filter(contract_id=contract.pk, kind="change", action__startswith="contract.")
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["contract.created", "contract.submit", "contract.prereviewed", "contract.approve", "contract.sign",
                       "contract.activate", "contract.complete"]


@pytest.mark.parametrize(("path", "name", "data", "target"), [
    ((), "submit", {}, "in_review"),
    (("submit", "approve"), "sign", {"signing_method": "wet_ink", "signing_date": "2026-01-02"}, "signed"),
    (("submit", "approve", "sign"), "activate", {}, "active"),
    (("submit", "approve", "sign", "activate"), "complete", {}, "completed"),
    (("submit", "approve", "sign", "activate"), "expire", {}, "expired"),
    (("submit", "approve", "sign", "activate"), "terminate", {"reason": "违约"}, "terminated"),
    ((), "cancel", {"reason": "客户放弃"}, "cancelled"),
])
def test_each_transition_endpoint(users, contract, path, name, data, target):
    contract = move(contract, users["admin"], *path, signing_method="e_signature",
                    signing_date=datetime.date(2026, 1, 1))
    response = post(client_for(users["admin"]), contract, name, version=contract.version, **data)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == target
    contract.refresh_from_db()
    assert contract.status == target
    if data.get("reason"):
        assert contract.status_reason == data["reason"]


def test_illegal_transition_is_409_and_changes_nothing(users, contract):
    response = post(client_for(users["sales"]), contract, "activate")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    contract.refresh_from_db()
    assert (contract.status, contract.version) == (Status.DRAFT, 1)


@pytest.mark.parametrize("name", ["cancel"])
def test_reason_required(users, contract, name):
    response = post(client_for(users["sales"]), contract, name, reason="  ")
    assert response.status_code == 400 and response.json()["code"] == "reason_required"
    assert "reason" in response.json()["fields"]
    contract.refresh_from_db()
    assert contract.status == Status.DRAFT


def test_reason_too_long(users, contract):
    response = post(client_for(users["sales"]), contract, "cancel", reason="x" * 1001)
    assert response.status_code == 400
    assert response.json()["field_codes"] == {"reason": ["max_length"]}


@pytest.mark.parametrize(("data", "field", "code"), [
    ({"signing_date": "2026-01-02"}, "signing_method", "required"),
    ({"signing_method": "fax", "signing_date": "2026-01-02"}, "signing_method", "invalid_choice"),
    ({"signing_method": "wet_ink"}, "signing_date", "required"),
    ({"signing_method": "wet_ink", "signing_date": "02/01/2026"}, "signing_date", "invalid"),
    ({"signing_method": "wet_ink", "signing_date": "2999-01-01"}, "signing_date", "invalid"),
])
def test_sign_needs_method_and_date(users, contract, data, field, code):
    contract = move(contract, users["admin"], "submit", "approve")
    response = post(client_for(users["sales"]), contract, "sign", **data)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert code in response.json()["field_codes"][field]
    contract.refresh_from_db()
    assert contract.status == Status.APPROVED


def test_transition_with_stale_version(users, contract):
    response = post(client_for(users["sales"]), contract, "submit", version=7)
    assert response.status_code == 409 and response.json()["code"] == "stale_version"
    contract.refresh_from_db()
    assert contract.status == Status.DRAFT


def test_approve_and_return_are_no_longer_status_actions(users):
    contract = move(make_contract(users["sales"]), users["sales"], "submit")
    legal = client_for(users["legal"])
    assert post(legal, contract, "approve").status_code == 404
    assert post(legal, contract, "return", reason="条款不全").status_code == 404
    contract.refresh_from_db()
    assert contract.status == Status.IN_REVIEW


# --- permission matrix --------------------------------------------------------------------------
# Objects: A1 owned by sales (team A), A2 owned by sales2 (team A), B owned by sales_b (team B).
# For sales that is own / team / other team; for the manager of A, team / team / other.
ALL = {"A1", "A2", "B"}
MATRIX = {
    #  role        visible          editable (update, submit)
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
    return {"A1": make_contract(users["sales"]), "A2": make_contract(users["sales2"]),
            "B": make_contract(users["sales_b"])}


@pytest.mark.parametrize("role", MATRIX)
def test_matrix_list_counts(users, matrix, role):
    visible, _ = MATRIX[role]
    body = client_for(users[role]).get(URL).json()
    assert body["count"] == len(visible)
    assert {row["id"] for row in body["results"]} == {matrix[k].pk for k in visible}
    # Filtering by an invisible row's customer never reveals it either.
    for key in ALL - visible:
        assert client_for(users[role]).get(URL, {"q": matrix[key].number}).json()["count"] == 0


@pytest.mark.parametrize("role", MATRIX)
@pytest.mark.parametrize("key", sorted(ALL))
def test_matrix_detail_update_transition(users, matrix, role, key):
    visible, editable = MATRIX[role]
    contract = matrix[key]
    client = client_for(users[role])

    got = client.get(detail(contract))
    patched = client.patch(detail(contract), {"title": "改", "version": 1}, format="json")
    submitted = post(client, contract, "submit")

    if key not in visible:
        assert [got.status_code, patched.status_code, submitted.status_code] == [404, 404, 404]
        assert got.json()["code"] == "not_found" and "title" not in got.json()
    elif key not in editable:
        assert got.status_code == 200
        assert [patched.status_code, submitted.status_code] == [403, 403]
        assert patched.json()["code"] == submitted.json()["code"] == "permission_denied"
    else:
        assert [got.status_code, patched.status_code, submitted.status_code] == [200, 200, 200]
    contract.refresh_from_db()
    assert (contract.title == "改") == (key in editable)


@pytest.mark.parametrize("role", ["legal", "finance", "auditor"])
def test_read_only_roles_cannot_create(users, role):
    customer = make_customer(users["sales"])
    response = client_for(users[role]).post(URL, {"title": "t", "customer": customer.pk}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Contract.objects.filter(title="t").exists()


def test_cannot_attach_to_invisible_customer_or_parent(users, matrix):
    other_customer = matrix["B"].customer
    client = client_for(users["sales"])
    response = client.post(URL, {"title": "t", "customer": other_customer.pk}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"customer": ["does_not_exist"]}
    response = client.patch(detail(matrix["A1"]), {"parent": matrix["B"].pk, "version": 1}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"parent": ["does_not_exist"]}


def test_anonymous_gets_401(db):
    response = APIClient().get(URL)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role", MATRIX)
def test_matrix_early_activation_flag(users, role):
    """confirm_early changes no one's rights: the role and visibility checks come first (404/403 before
    409 before_effective_date), and only those who may activate get that far."""
    visible, editable = MATRIX[role]
    today = datetime.date.today()
    owners = {"A1": users["sales"], "A2": users["sales2"], "B": users["sales_b"]}
    client = client_for(users[role])
    for key, owner in owners.items():
        contract = move(make_contract(owner, effective_date=today + datetime.timedelta(days=30),
                                                expiry_date=today + datetime.timedelta(days=400)),
                        users["admin"], "submit", "approve", "sign", signing_method="wet_ink",
                        signing_date=today - datetime.timedelta(days=1))
        unconfirmed = post(client, contract, "activate")
        confirmed = post(client, contract, "activate", confirm_early=True)
        if key not in visible:
            assert [unconfirmed.status_code, confirmed.status_code] == [404, 404], key
        elif key not in editable:
            assert [unconfirmed.status_code, confirmed.status_code] == [403, 403], key
        else:
            assert unconfirmed.status_code == 409 and unconfirmed.json()["code"] == "before_effective_date"
            assert confirmed.status_code == 200 and confirmed.json()["status"] == "active", key
        contract.refresh_from_db()
        assert (contract.status == Status.ACTIVE) == (key in editable), key


# --- assignment edges: the team stays, the owner can edit ------------------------------------------

HOSTILE_IDS = [999_999_999, 10**20, -1, "abc", "1.5", [1], {"id": 1}, True]


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_team_editor_cannot_clear_the_team(users, role):
    contract = make_contract(users[role])
    client = client_for(users[role])
    response = client.patch(detail(contract), {"team": None, "version": contract.version}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field_codes"] == {"team": ["invalid"]}
    customer = make_customer(users[role])
    response = client.post(URL, {"title": "无团队", "customer": customer.pk, "team": None}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"team": ["invalid"]}
    contract.refresh_from_db()
    assert contract.team_id == users[role].team_id and contract.version == 1
    assert not Contract.objects.filter(title="无团队").exists()


def test_team_editor_cannot_move_a_record_to_another_team(users, team_b):
    contract = make_contract(users["sales"])
    response = client_for(users["sales"]).patch(detail(contract), {"team": team_b.pk, "version": 1}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"team": ["invalid"]}
    contract.refresh_from_db()
    assert contract.team_id == users["sales"].team_id


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_team_of_hostile_value_is_refused(users, value):
    contract = make_contract(users["sales"])
    response = client_for(users["sales"]).patch(detail(contract), {"team": value, "version": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert set(response.json()["field_codes"]) == {"team"}
    contract.refresh_from_db()
    assert contract.team_id == users["sales"].team_id and contract.version == 1


def test_admin_may_clear_the_team_and_a_teamless_sales_keeps_none(users):
    contract = make_contract(users["sales"])
    response = client_for(users["admin"]).patch(detail(contract), {"team": None, "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["team"] is None
    from qiyue.accounts.tests.factories import make_user

    loner = make_user("sales", username="loner")
    customer = make_customer(loner)
    response = client_for(loner).post(URL, {"title": "独行", "customer": customer.pk}, format="json")
    assert response.status_code == 201 and response.json()["team"] is None


@pytest.mark.parametrize("role", ["legal", "finance", "auditor"])
@pytest.mark.parametrize("actor", ["admin", "sales"])
def test_owner_must_have_an_owner_role(users, role, actor):
    contract = make_contract(users["sales"])
    client = client_for(users[actor])
    response = client.patch(detail(contract), {"owner": users[role].pk, "version": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field_codes"] == {"owner": ["invalid"]}
    customer = make_customer(users["sales"])
    response = client.post(URL, {"title": "无主", "customer": customer.pk, "owner": users[role].pk}, format="json")
    assert response.status_code == 400 and response.json()["field_codes"] == {"owner": ["invalid"]}
    contract.refresh_from_db()
    assert contract.owner_id == users["sales"].pk and contract.version == 1
    assert not Contract.objects.filter(title="无主").exists()


def test_owner_cannot_be_an_inactive_user(users):
    from qiyue.contracts.services import contract_update
    from qiyue.core.errors import ApplicationError

    contract = make_contract(users["sales"])
    gone = users["sales2"]
    gone.is_active = False
    gone.save()
    response = client_for(users["admin"]).patch(detail(contract), {"owner": gone.pk, "version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"owner"}
    # The service refuses it too, whoever calls it.
    with pytest.raises(ApplicationError) as caught:
        contract_update(actor=users["admin"], contract=contract, data={"owner": gone}, expected_version=1)
    assert caught.value.code == "invalid" and set(caught.value.fields) == {"owner"}
    contract.refresh_from_db()
    assert contract.owner_id == users["sales"].pk


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_owner_of_hostile_value_is_refused(users, value):
    contract = make_contract(users["sales"])
    response = client_for(users["admin"]).patch(detail(contract), {"owner": value, "version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"owner"}
    contract.refresh_from_db()
    assert contract.owner_id == users["sales"].pk


# --- the signing date is the sign transition's --------------------------------------------------

@pytest.mark.parametrize("value", ["2026-01-05", "2020-02-29"])
def test_update_cannot_set_the_signing_date(users, value):
    contract = make_contract(users["sales"])
    for actor in ("sales", "admin"):
        response = client_for(users[actor]).patch(detail(contract), {"signing_date": value, "title": "改",
                                                                     "version": 1}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "signing_date_read_only"
        assert response.json()["field_codes"] == {"signing_date": ["signing_date_read_only"]}
    customer = make_customer(users["sales"])
    response = client_for(users["sales"]).post(URL, {"title": "预签", "customer": customer.pk,
                                                     "signing_date": value}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "signing_date_read_only"
    contract.refresh_from_db()
    assert contract.signing_date is None and contract.title != "改" and contract.version == 1
    assert not Contract.objects.filter(title="预签").exists()


@pytest.mark.parametrize("value", ["not a date", "", 12, [], {"y": 2026}, "2026-02-30", "9999999-01-01"])
def test_signing_date_of_the_wrong_type_is_refused(users, value):
    contract = make_contract(users["sales"])
    response = client_for(users["sales"]).patch(detail(contract), {"signing_date": value, "version": 1},
                                                format="json")
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"signing_date"}
    contract.refresh_from_db()
    assert contract.signing_date is None and contract.version == 1


def test_signed_contract_keeps_its_signing_date_in_output_and_against_update(users):
    contract = move(move(make_contract(users["sales"]), users["sales"], "submit"), users["admin"], "approve")
    contract = contract_transition(actor=users["sales"], contract=contract, name="sign",
                                   signing_method="company_seal", signing_date=datetime.date(2026, 1, 5))
    client = client_for(users["admin"])
    for value in ("2026-02-01", None):
        response = client.patch(detail(contract), {"signing_date": value, "version": contract.version},
                                format="json")
        assert response.status_code == 409 and response.json()["code"] == "facts_frozen"
        assert set(response.json()["field_codes"]) == {"signing_date"}
    body = client_for(users["sales"]).get(detail(contract)).json()
    assert body["signing_date"] == "2026-01-05"
    # What was read may be sent back as it is (a PUT of the record): the date is unchanged.
    response = client.patch(detail(contract), {"signing_date": "2026-01-05", "tags": ["已签"],
                                               "version": contract.version}, format="json")
    assert response.status_code == 200 and response.json()["signing_date"] == "2026-01-05"


# --- list filters name only what the user may see --------------------------------------------------

@pytest.fixture
def linked(users):
    """Team A's framework agreement with a supplement, and team B's with a supplement of team A, both on
    a customer of team A (an admin's doing): the supplement is visible to team A, its framework
    agreement is not."""
    framework_a = make_contract(users["sales"])
    supplement_a = make_contract(users["sales"], customer=framework_a.customer, parent=framework_a)
    framework_b = make_contract(users["sales_b"], customer=framework_a.customer, actor=users["admin"])
    crossing = make_contract(users["sales"], customer=framework_a.customer, parent=framework_b,
                             actor=users["admin"])
    return {"framework_a": framework_a, "supplement_a": supplement_a, "framework_b": framework_b,
            "crossing": crossing}


def test_parent_filter_lists_supplements_of_a_visible_framework(users, linked):
    body = client_for(users["sales"]).get(URL, {"parent": linked["framework_a"].pk}).json()
    assert [row["id"] for row in body["results"]] == [linked["supplement_a"].pk]
    body = client_for(users["admin"]).get(URL, {"parent": linked["framework_b"].pk}).json()
    assert [row["id"] for row in body["results"]] == [linked["crossing"].pk]


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_parent_filter_refuses_an_invisible_framework(users, linked, role):
    # Team A sees the crossing supplement, but naming team B's framework agreement is refused, not
    # answered with the visible rows linked to it.
    response = client_for(users[role]).get(URL, {"parent": linked["framework_b"].pk})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and set(response.json()["field_codes"]) == {"parent"}
    assert "results" not in response.json()


def test_customer_filter_refuses_an_invisible_customer(users, linked):
    # Team B sees its framework agreement on team A's customer, but not the customer itself.
    response = client_for(users["sales_b"]).get(URL, {"customer": linked["framework_a"].customer_id})
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"customer"}
    body = client_for(users["sales"]).get(URL, {"customer": linked["framework_a"].customer_id}).json()
    assert body["count"] == 3


def test_a_deleted_framework_is_unknown_to_the_parent_filter(users):
    framework = make_contract(users["sales"])
    Contract.objects.filter(pk=framework.pk).update(deleted_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    response = client_for(users["admin"]).get(URL, {"parent": framework.pk})
    assert response.status_code == 400 and set(response.json()["field_codes"]) == {"parent"}


@pytest.mark.parametrize("name", ["parent", "customer"])
@pytest.mark.parametrize("value", ["999999999", str(10**20), str(2**63), "-1", "0", "abc", "1.5", "1e3", "[1]", "1 OR 1=1"])
def test_id_filters_refuse_hostile_values(users, linked, name, value):
    response = client_for(users["admin"]).get(URL, {name: value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and set(response.json()["field_codes"]) == {name}
