"""Archive API: facet counts, legal hold and (soft) DELETE on contracts."""

import pytest
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db
FACETS = "/api/v1/archive/facets/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def contracts(users):
    return {
        "own": make_contract(users["sales"], nature="lease"),
        "other": make_contract(users["sales_b"], nature="service"),
    }


def test_facets_shape_and_scope(users, contracts):
    body = client_for(users["sales"]).get(FACETS).json()
    assert body["total"] == 1 and body["deleted"] is False
    assert set(body["facets"]) == {"nature", "subject_matter", "signing_form", "status", "customer", "signing_year"}
    assert body["facets"]["nature"]["values"] == [{"value": "lease", "label": "Lease", "count": 1}]
    assert body["facets"]["customer"]["values"][0]["value"] == str(contracts["own"].customer_id)
    admin = client_for(users["admin"]).get(FACETS, {"nature": "service"}).json()
    assert admin["total"] == 1 and {v["value"] for v in admin["facets"]["nature"]["values"]} == {"lease", "service"}


def test_facets_bad_filter_and_anonymous(users, contracts):
    response = client_for(users["admin"]).get(FACETS, {"signing_year": "20x4"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "signing_year" in response.json()["fields"]
    assert APIClient().get(FACETS).status_code in (401, 403)


def test_facets_deleted_for_admin_only(users, contracts):
    client_for(users["sales"]).delete(f"/api/v1/contracts/{contracts['own'].pk}/", {"reason": "错"}, format="json")
    assert client_for(users["admin"]).get(FACETS, {"deleted": "1"}).json()["total"] == 1
    legal = client_for(users["legal"]).get(FACETS, {"deleted": "1"}).json()
    assert legal["deleted"] is False and legal["total"] == 1  # the live contract only


def test_legal_hold_endpoint(users, contracts):
    url = f"/api/v1/contracts/{contracts['own'].pk}/legal-hold/"
    assert client_for(users["sales"]).post(url, {"hold": True, "reason": "x"}, format="json").status_code == 403
    missing = client_for(users["legal"]).post(url, {"hold": True}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "reason_required"
    response = client_for(users["legal"]).post(url, {"hold": True, "reason": "诉讼保全"}, format="json")
    assert response.status_code == 200
    assert response.json()["legal_hold"] is True and response.json()["legal_hold_reason"] == "诉讼保全"
    refused = client_for(users["sales"]).delete(f"/api/v1/contracts/{contracts['own'].pk}/", {"reason": "x"},
                                                format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "legal_hold"
    released = client_for(users["admin"]).post(url, {"hold": False, "reason": "结案"}, format="json")
    assert released.status_code == 200 and released.json()["legal_hold"] is False
    hidden = f"/api/v1/contracts/{contracts['other'].pk}/legal-hold/"
    assert client_for(users["sales"]).post(hidden, {"hold": True, "reason": "x"}, format="json").status_code == 404


def test_delete_endpoint(users, contracts):
    url = f"/api/v1/contracts/{contracts['own'].pk}/"
    assert client_for(users["sales_b"]).delete(url, {"reason": "x"}, format="json").status_code == 404
    assert client_for(users["finance"]).delete(url, {"reason": "x"}, format="json").status_code == 403
    response = client_for(users["sales"]).delete(url + "?reason=" + "录入错误")
    assert response.status_code == 204
    assert Contract.objects.get(pk=contracts["own"].pk).deleted_reason == "录入错误"
    assert AuditEvent.objects.filter(action="contract.deleted", contract_id=contracts["own"].pk).count() == 1
    assert client_for(users["admin"]).get(url).status_code == 404
    assert client_for(users["admin"]).delete(url, {"reason": "x"}, format="json").status_code == 404


def test_delete_within_retention_is_409(users, contracts):
    contract = contracts["other"]
    for name in ("submit", "approve"):
        contract = contract_transition(actor=users["admin"], contract=contract, name=name, via_workflow=name == "approve")
    url = f"/api/v1/contracts/{contract.pk}/"
    response = client_for(users["admin"]).delete(url, {"reason": "x"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    contract = contract_transition(actor=users["admin"], contract=contract, name="sign",
                                   signing_method="e_signature", signing_date=contract.effective_date)
    response = client_for(users["admin"]).delete(url, {"reason": "x"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "within_retention"
