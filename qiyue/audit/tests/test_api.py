"""The audit log API: auditors and admins read it, nobody writes it, everyone else gets 403."""

import pytest
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract

URL = "/api/v1/audit-events/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def contract(users):
    return make_contract(users["sales"])


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditor_and_admin_read_the_log(users, contract, role):
    client = client_for(users[role])
    body = client.get(URL).json()
    assert body["count"] == AuditEvent.objects.count()
    seqs = [row["seq"] for row in body["results"]]
    assert seqs == sorted(seqs, reverse=True)
    row = client.get(f"{URL}{body['results'][0]['id']}/").json()
    assert {"action", "action_display", "actor_name", "actor_role", "target_type", "target_label", "changes",
            "request_id"} <= set(row)
    assert "mac" not in row


@pytest.mark.parametrize("role", ["manager", "sales", "legal", "finance", "sales_b", "manager_b"])
def test_others_get_403(users, contract, role):
    client = client_for(users[role])
    event = AuditEvent.objects.first()
    for response in (client.get(URL), client.get(f"{URL}{event.pk}/")):
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_anonymous_gets_401(db):
    assert APIClient().get(URL).status_code == 401


def test_filters(users, contract):
    other = make_contract(users["sales_b"])
    client = client_for(users["auditor"])
    client.get(f"/api/v1/contracts/{contract.pk}/")
    by_contract = client.get(URL, {"contract": contract.pk}).json()
    assert by_contract["count"] >= 2
    assert {row["contract_id"] for row in by_contract["results"]} == {contract.pk}
    viewed = client.get(URL, {"action": "contract.viewed"}).json()
    assert viewed["count"] == 1 and viewed["results"][0]["actor_id"] == users["auditor"].pk
    assert viewed["results"][0]["kind"] == "access"
    assert client.get(URL, {"action": "contract."}).json()["count"] == 3
    assert client.get(URL, {"actor": users["sales_b"].pk, "target_type": "contracts.contract"}).json()[
        "results"][0]["target_id"] == str(other.pk)
    assert client.get(URL, {"since": "not-a-date"}).status_code == 400


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_log_is_read_only(users, contract, method):
    event = AuditEvent.objects.first()
    url = URL if method == "post" else f"{URL}{event.pk}/"
    response = getattr(client_for(users["admin"]), method)(url, {"action": "x"}, format="json")
    assert response.status_code == 405
    event.refresh_from_db()
    assert event.action != "x"


def test_reads_of_the_log_are_logged_with_the_new_fields(users, contract):
    client = client_for(users["auditor"])
    listed = client.get(URL, {"kind": "change", "page": 1}, HTTP_USER_AGENT="AuditClient/3").json()
    read = AuditEvent.objects.get(action="audit.viewed")
    assert (read.kind, read.actor_id, read.target_type, read.target_label, read.user_agent) == (
        "access", users["auditor"].pk, "audit.auditevent", "kind=change&page=1", "AuditClient/3")
    assert read.seq not in [row["seq"] for row in listed["results"]]  # filtered to changes
    one = client.get(f"{URL}{read.pk}/").json()
    assert (one["outcome"], one["user_agent"], one["chain_version"], one["correlation_id"]) == (
        "success", "AuditClient/3", 2, "")
    opened = AuditEvent.objects.filter(action="audit.viewed").order_by("-seq").first()
    assert (opened.target_id, opened.target_label) == (str(read.pk), str(read))
    denied = client.get(URL, {"outcome": "denied"}).json()
    assert denied["count"] == 0


def test_a_bad_outcome_filter_is_a_400_naming_the_field(users, contract):
    response = client_for(users["auditor"]).get(URL, {"outcome": "<script>"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "outcome" in response.json()["fields"]
