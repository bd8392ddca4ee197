"""Amendments and contract versions over the API: the whole path (raise, submit, approve through the
approval's endpoints, sign; the contract changes and keeps both versions), then each input and each
refusal, by its code."""

import copy
import datetime
import json
from decimal import Decimal

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts import amendments
from qiyue.contracts.models import Amendment, Contract
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents.services import document_upload
from qiyue.documents.tests.factories import make_pdf, storage_fixture, upload  # noqa: F401  (`storage`)
from qiyue.ops.tests.test_responses_match_schema import _json_schema
from qiyue.workflow import checklist
from qiyue.workflow.models import ApprovalTask
from qiyue.workflow.tests.factories import approve_through

CHANGES = {"amount": "8000.00", "expiry_date": "2028-06-30"}
ALL_PASS = {key: {"mark": "pass", "note": ""} for key in checklist.KEYS}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def amendments_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/amendments/"


def url(amendment, action: str = "") -> str:
    return f"/api/v1/amendments/{amendment.pk}/" + (f"{action}/" if action else "")


def signed_contract(users, owner="sales", **data) -> Contract:
    contract = make_contract(users[owner], amount=Decimal("5000.00"), **data)
    contract = contract_transition(actor=users[owner], contract=contract, name="submit")
    contract = approve_through(contract)
    return contract_transition(actor=users[owner], contract=contract, name="sign", signing_method="wet_ink",
                               signing_date=datetime.date(2026, 1, 10))


def raise_amendment(users, contract, actor="sales", **data) -> Amendment:
    return amendments.amendment_create(actor=users[actor], contract=contract,
                                       data={"reason": "客户追加采购", "changes": dict(CHANGES), **data})


def code(response) -> str:
    return response.json()["code"]


@pytest.fixture
def contract(users):
    return signed_contract(users)


@pytest.fixture
def draft(users, contract):
    return raise_amendment(users, contract)


# --- The whole path ---------------------------------------------------------------------------------

def test_raise_submit_approve_and_sign_an_amendment(users, contract, storage):
    sales = client_for(users["sales"])
    supplement = document_upload(actor=users["sales"], contract=contract,
                                 files=[upload("补充协议.pdf", make_pdf(), "application/pdf")])[0]

    response = sales.post(amendments_url(contract), {
        "reason": "客户追加采购", "changes": CHANGES, "payment_terms": "验收后 30 日内付清",
        "other_terms": "增加两台设备", "document": supplement.pk}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["contract"], body["number"], body["status"], body["version"]) == (contract.pk, 1, "draft", 1)
    assert body["status_display"] and body["created_by"] == str(users["sales"])
    assert body["changes"] == CHANGES and body["document"] == supplement.pk and body["signed_on"] is None
    assert body["payment_terms"] == "验收后 30 日内付清" and body["other_terms"] == "增加两台设备"
    rows = {row["field"]: row for row in body["change_rows"]}
    assert (rows["amount"]["old"], rows["amount"]["new"]) == ("5000.00", "8000.00")
    assert rows["expiry_date"]["old"] == "2027-12-31" and rows["expiry_date"]["label"]
    amendment = Amendment.objects.get(pk=body["id"])

    listed = sales.get(amendments_url(contract)).json()
    assert [row["id"] for row in listed] == [amendment.pk]

    response = sales.post(url(amendment, "submit"), {"version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["version"]) == ("in_review", 2)

    # The approvers decide through the contract's approval, as for the contract itself.
    for _ in range(10):
        task = ApprovalTask.objects.filter(contract=contract, status="open").order_by("pk").first()
        if task is None:
            break
        history = client_for(task.assignee).get(f"/api/v1/contracts/{contract.pk}/approval/").json()
        decided = client_for(task.assignee).post(f"/api/v1/contracts/{contract.pk}/approval/decide/", {
            "task": task.pk, "decision": "approve", "checklist": ALL_PASS if task.step.review else None,
            "version": history[0]["version"]}, format="json")
        assert decided.status_code == 200, decided.json()
    approved = sales.get(url(amendment)).json()
    assert approved["status"] == "approved"
    assert sales.get(f"/api/v1/contracts/{contract.pk}/").json()["amount"] == "5000.00"  # until it is signed

    today = timezone.localdate().isoformat()
    response = sales.post(url(amendment, "sign"), {"signed_on": today, "version": approved["version"]},
                          format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["signed_on"]) == ("signed", today)
    after = sales.get(f"/api/v1/contracts/{contract.pk}/").json()
    assert (after["amount"], after["expiry_date"], after["status"]) == ("8000.00", "2028-06-30", "signed")
    rows = {row["field"]: row for row in response.json()["change_rows"]}
    assert (rows["amount"]["old"], rows["amount"]["new"]) == ("5000.00", "8000.00")  # against version 1

    versions = sales.get(f"/api/v1/contracts/{contract.pk}/versions/").json()
    assert [(v["number"], v["amendment"]) for v in versions] == [(1, None), (2, 1)]
    assert (versions[0]["facts"]["amount"], versions[1]["facts"]["amount"]) == ("5000.00", "8000.00")
    assert versions[0]["effective_on"] == "2026-01-10" and versions[1]["effective_on"] == today

    compare = sales.get(f"/api/v1/contracts/{contract.pk}/versions/compare/", {"a": 1, "b": 2}).json()
    assert (compare["a"], compare["b"]) == (1, 2)
    rows = {row["field"]: row for row in compare["rows"]}
    assert {name for name, row in rows.items() if row["changed"]} == {"amount", "expiry_date", "payment_terms",
                                                                      "other_terms"}
    assert (rows["amount"]["old"], rows["amount"]["new"]) == ("5000.00", "8000.00")
    assert not rows["currency"]["changed"] and rows["currency"]["label"]
    actions = set(AuditEvent.objects.filter(target_id=str(contract.pk)).values_list("action", flat=True))
    assert {"amendment.created", "amendment.submitted", "amendment.approved", "contract.amended"} <= actions

    # Signed, it is settled; the next amendment may be raised.
    assert code(sales.post(url(amendment, "cancel"), {"reason": "不要了"}, format="json")) == "illegal_transition"
    again = sales.post(amendments_url(contract), {"reason": "再次延期", "changes": {"notice_period_days": 30}},
                       format="json")
    assert again.status_code == 201 and again.json()["number"] == 2


def test_every_reader_sees_the_amendments_of_a_contract_they_see(users, contract, draft):
    for role in ("sales", "sales2", "manager", "admin", "legal", "finance", "auditor"):
        reader = client_for(users[role])
        assert reader.get(amendments_url(contract)).status_code == 200, role
        assert reader.get(url(draft)).json()["id"] == draft.pk, role
        # Version 1, the terms as signed, is kept from the signing on.
        assert [v["number"] for v in reader.get(f"/api/v1/contracts/{contract.pk}/versions/").json()] == [1], role


def test_responses_match_the_published_schema(users, contract):
    amendment = raise_amendment(users, contract)
    amendments.amendment_submit(actor=users["sales"], amendment=amendment)
    approve_through(contract)
    amendments.amendment_sign(actor=users["sales"], amendment=Amendment.objects.get(pk=amendment.pk),
                              signed_on=timezone.localdate())
    raise_amendment(users, contract, changes={"open_ended": True, "expiry_date": None, "auto_renewal": True})
    client = client_for(users["sales"])
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    defs = _json_schema(schema["components"]["schemas"])
    for template, path, query in (
            ("/api/v1/contracts/{id}/amendments/", amendments_url(contract), {}),
            ("/api/v1/amendments/{id}/", url(amendment), {}),
            ("/api/v1/contracts/{id}/versions/", f"/api/v1/contracts/{contract.pk}/versions/", {}),
            ("/api/v1/contracts/{id}/versions/compare/", f"/api/v1/contracts/{contract.pk}/versions/compare/",
             {"a": 2, "b": 1})):
        response = client.get(path, query)
        assert response.status_code == 200, (path, response.json())
        content = schema["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
        jsonschema.validate(response.json(), {**_json_schema(copy.deepcopy(content["schema"])), "$defs": defs})


def test_the_list_reads_a_fixed_number_of_queries(users, contract):
    client = client_for(users["sales"])
    raise_amendment(users, contract)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(amendments_url(contract)).status_code == 200
        return len(captured)

    one = queries()
    for n in range(3):
        amendments.amendment_cancel(actor=users["sales"], amendment=contract.amendments.order_by("-number")[0],
                                    reason=f"作废 {n}")
        raise_amendment(users, contract)
    assert queries() == one


# --- Hostile input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("payload", "field"), [
    ({"changes": CHANGES}, "reason"),
    ({"reason": "", "changes": CHANGES}, "reason"),
    ({"reason": ["x"], "changes": CHANGES}, "reason"),
    ({"reason": "x" * 1001, "changes": CHANGES}, "reason"),
    ({"reason": "x", "changes": CHANGES, "payment_terms": "x" * 2001}, "payment_terms"),
    ({"reason": "x", "changes": CHANGES, "other_terms": "x" * 4001}, "other_terms"),
    ({"reason": "x", "changes": CHANGES, "other_terms": {"a": 1}}, "other_terms"),
    ({"reason": "x", "changes": "amount=8000"}, "changes"),
    ({"reason": "x", "changes": ["amount", "8000"]}, "changes"),
    ({"reason": "x", "changes": {"amount": ["8000"]}}, "changes"),
    ({"reason": "x", "changes": {"amount": {"value": "8000"}}}, "changes"),
    ({"reason": "x", "changes": {"amount": "8" * 101}}, "changes"),
    ({"reason": "x", "changes": {"amount": True}}, "changes"),
    ({"reason": "x", "changes": {"open_ended": "yes"}}, "changes"),
    ({"reason": "x", "changes": {"notice_period_days": 3.7}}, "changes"),
    ({"reason": "x", "changes": {f"f{n}": "1" for n in range(11)}}, "changes"),
    ({"reason": "x", "changes": {"x" * 51: "1"}}, "changes"),
    ({"reason": "x", "changes": {"title": "新标题"}}, "changes"),
    ({"reason": "x", "changes": {}}, "changes"),
    ({"reason": "x", "changes": {"amount": "5000.00"}}, "changes"),  # no change at all
    ({"reason": "x", "changes": {"amount": "abc"}}, "amount"),
    ({"reason": "x", "changes": {"amount": "-1"}}, "amount"),
    ({"reason": "x", "changes": {"amount": "1e30"}}, "amount"),
    ({"reason": "x", "changes": {"tax_rate": "101"}}, "tax_rate"),
    ({"reason": "x", "changes": {"notice_period_days": 99999}}, "notice_period_days"),
    ({"reason": "x", "changes": {"expiry_date": "2028-02-30"}}, "expiry_date"),
    ({"reason": "x", "changes": {"expiry_date": "2020-01-01"}}, "expiry_date"),
    ({"reason": "x", "changes": {"open_ended": True}}, "expiry_date"),  # an open-ended contract has no expiry
    ({"reason": "x", "changes": CHANGES, "document": "abc"}, "document"),
    ({"reason": "x", "changes": CHANGES, "document": 2**70}, "document"),
    ({"reason": "x", "changes": CHANGES, "document": 999_999}, "document"),
])
def test_a_bad_amendment_is_400_on_its_field(users, contract, payload, field):
    response = client_for(users["sales"]).post(amendments_url(contract), payload, format="json")
    assert response.status_code == 400, response.json()
    assert code(response) == "invalid" and field in response.json()["fields"], response.json()
    assert not contract.amendments.exists()


def test_a_body_that_is_no_json_object_is_400(users, contract):
    client = client_for(users["sales"])
    response = client.post(amendments_url(contract), "{not json", content_type="application/json")
    assert (response.status_code, code(response)) == (400, "parse_error")
    response = client.post(amendments_url(contract), [1, 2], format="json")
    assert (response.status_code, code(response)) == (400, "invalid")
    # 1e400 is valid JSON that Python reads as infinity.
    response = client.post(amendments_url(contract), '{"reason": "x", "changes": {"amount": 1e400}}',
                           content_type="application/json")
    assert (response.status_code, code(response)) == (400, "invalid") and "changes" in response.json()["fields"]


def test_the_document_must_be_one_of_this_contract(users, contract, storage):
    other = make_contract(users["sales"])
    elsewhere = document_upload(actor=users["sales"], contract=other,
                                files=[upload("别的合同.pdf", make_pdf(), "application/pdf")])[0]
    response = client_for(users["sales"]).post(amendments_url(contract), {
        "reason": "x", "changes": CHANGES, "document": elsewhere.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["field_codes"] == {"document": ["does_not_exist"]}


def test_a_contract_that_is_not_signed_is_not_amended(users):
    draft_contract = make_contract(users["sales"])
    response = client_for(users["sales"]).post(amendments_url(draft_contract), {"reason": "x", "changes": CHANGES},
                                               format="json")
    assert (response.status_code, code(response)) == (409, "illegal_transition")


def test_one_amendment_at_a_time(users, contract, draft):
    client = client_for(users["sales"])
    second = {"reason": "再改", "changes": {"amount": "9000.00"}}
    response = client.post(amendments_url(contract), second, format="json")
    assert (response.status_code, code(response)) == (409, "amendment_open")
    client.post(url(draft, "submit"), {}, format="json")
    assert code(client.post(amendments_url(contract), second, format="json")) == "amendment_open"


def test_update_a_draft(users, contract, draft):
    client = client_for(users["sales"])
    response = client.patch(url(draft), {"changes": {"amount": "9000.00"}, "other_terms": "改为九千", "version": 1},
                            format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["changes"], body["other_terms"], body["reason"], body["version"]) == (
        {"amount": "9000.00"}, "改为九千", "客户追加采购", 2)


@pytest.mark.parametrize(("payload", "field"), [
    ({"reason": "新的理由"}, "version"),
    ({"reason": "新的理由", "version": "x"}, "version"),
    ({"reason": "新的理由", "version": 0}, "version"),
    ({"reason": "", "version": 1}, "reason"),
    ({"reason": "x" * 1001, "version": 1}, "reason"),
    ({"changes": 5, "version": 1}, "changes"),
    ({"changes": {"amount": "abc"}, "version": 1}, "amount"),
    ({"payment_terms": "x" * 2001, "version": 1}, "payment_terms"),
])
def test_a_bad_update_is_400(users, contract, draft, payload, field):
    response = client_for(users["sales"]).patch(url(draft), payload, format="json")
    assert response.status_code == 400 and code(response) == "invalid", response.json()
    assert field in response.json()["fields"], response.json()
    draft.refresh_from_db()
    assert (draft.version, draft.reason) == (1, "客户追加采购")


def test_only_a_draft_changes_and_a_stale_version_is_refused(users, contract, draft):
    client = client_for(users["sales"])
    assert client.patch(url(draft), {"reason": "第一次", "version": 1}, format="json").status_code == 200
    stale = client.patch(url(draft), {"reason": "第二次", "version": 1}, format="json")
    assert (stale.status_code, code(stale)) == (409, "stale_version")
    assert code(client.post(url(draft, "submit"), {"version": 1}, format="json")) == "stale_version"
    assert client.post(url(draft, "submit"), {"version": 2}, format="json").status_code == 200
    refused = client.patch(url(draft), {"reason": "第三次", "version": 3}, format="json")
    assert (refused.status_code, code(refused)) == (409, "illegal_transition")
    assert code(client.post(url(draft, "submit"), {}, format="json")) == "illegal_transition"
    assert code(client.post(url(draft, "cancel"), {"reason": "x"}, format="json")) == "illegal_transition"


def test_sign_only_an_approved_amendment_on_a_day_not_to_come(users, contract, draft):
    client = client_for(users["sales"])
    today = timezone.localdate()
    refused = client.post(url(draft, "sign"), {"signed_on": today.isoformat()}, format="json")
    assert (refused.status_code, code(refused)) == (409, "illegal_transition")
    amendments.amendment_submit(actor=users["sales"], amendment=draft)
    approve_through(contract)
    draft.refresh_from_db()
    assert draft.status == "approved"
    for payload, field in (({}, "signed_on"), ({"signed_on": "tomorrow"}, "signed_on"),
                           ({"signed_on": 20260301}, "signed_on"), ({"signed_on": "2026-02-30"}, "signed_on"),
                           ({"signed_on": (today + datetime.timedelta(days=1)).isoformat()}, "signed_on"),
                           ({"signed_on": today.isoformat(), "version": "two"}, "version")):
        response = client.post(url(draft, "sign"), payload, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], (payload, response.json())
    stale = client.post(url(draft, "sign"), {"signed_on": today.isoformat(), "version": 1}, format="json")
    assert (stale.status_code, code(stale)) == (409, "stale_version")
    contract.refresh_from_db()
    assert contract.amount == Decimal("5000.00") and list(contract.versions.values_list("number", flat=True)) == [1]


def test_cancel_needs_a_reason(users, contract, draft):
    client = client_for(users["sales"])
    for payload in ({}, {"reason": ""}, {"reason": "x" * 1001}, {"reason": ["x"]}):
        response = client.post(url(draft, "cancel"), payload, format="json")
        assert response.status_code == 400 and "reason" in response.json()["fields"], payload
    response = client.post(url(draft, "cancel"), {"reason": "客户放弃"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    # Cancelled, it no longer stands in the way of another.
    assert client.post(amendments_url(contract), {"reason": "重新提", "changes": CHANGES},
                       format="json").status_code == 201


@pytest.mark.parametrize(("query", "field"), [
    ({"a": 1}, "b"), ({"b": 2}, "a"), ({}, "a"), ({"a": "x", "b": 2}, "a"), ({"a": 1, "b": "2.5"}, "b"),
    ({"a": 1, "b": 3}, "b"), ({"a": 0, "b": 1}, "a"), ({"a": 2**40, "b": 1}, "a"),
])
def test_compare_needs_two_versions_of_the_contract(users, contract, query, field):
    response = client_for(users["sales"]).get(f"/api/v1/contracts/{contract.pk}/versions/compare/", query)
    assert response.status_code == 400 and code(response) == "invalid", response.json()
    assert field in response.json()["fields"]


def test_compare_a_version_of_another_contract_is_400(users, contract):
    amendment = raise_amendment(users, contract)
    amendments.amendment_submit(actor=users["sales"], amendment=amendment)
    approve_through(contract)
    amendments.amendment_sign(actor=users["sales"], amendment=Amendment.objects.get(pk=amendment.pk),
                              signed_on=timezone.localdate())
    other = signed_contract(users)  # only its version 1, as signed
    response = client_for(users["sales"]).get(f"/api/v1/contracts/{other.pk}/versions/compare/", {"a": 1, "b": 2})
    assert response.status_code == 400 and set(response.json()["fields"]) == {"b"}


# --- Who may ----------------------------------------------------------------------------------------------

def test_another_teams_contract_and_its_amendments_are_404(users, contract, draft):
    for role in ("sales_b", "manager_b"):
        stranger = client_for(users[role])
        for response in (
                stranger.get(amendments_url(contract)),
                stranger.post(amendments_url(contract), {"reason": "x", "changes": CHANGES}, format="json"),
                stranger.get(f"/api/v1/contracts/{contract.pk}/versions/"),
                stranger.get(f"/api/v1/contracts/{contract.pk}/versions/compare/", {"a": 1, "b": 2}),
                stranger.get(url(draft)),
                stranger.patch(url(draft), {"reason": "x", "version": 1}, format="json"),
                stranger.post(url(draft, "submit"), {}, format="json"),
                stranger.post(url(draft, "sign"), {"signed_on": "2026-03-01"}, format="json"),
                stranger.post(url(draft, "cancel"), {"reason": "x"}, format="json")):
            assert (response.status_code, code(response)) == (404, "not_found"), (role, response.request)
    draft.refresh_from_db()
    assert (draft.status, draft.version) == ("draft", 1)


@pytest.mark.parametrize("path", ["/api/v1/amendments/999999/", "/api/v1/amendments/abc/",
                                  f"/api/v1/amendments/{2**70}/", "/api/v1/contracts/999999/amendments/",
                                  "/api/v1/contracts/999999/versions/"])
def test_a_missing_or_malformed_id_is_404(users, path):
    response = client_for(users["admin"]).get(path)
    assert (response.status_code, code(response)) == (404, "not_found")


def test_a_deleted_contracts_amendments_are_gone(users, contract, draft):
    Contract.objects.filter(pk=contract.pk).update(deleted_at=timezone.now())
    assert client_for(users["admin"]).get(url(draft)).status_code == 404
    assert client_for(users["admin"]).get(amendments_url(contract)).status_code == 404


@pytest.mark.parametrize("role", ["legal", "finance", "auditor"])
def test_reviewers_and_auditors_read_but_do_not_write(users, contract, draft, role):
    client = client_for(users[role])
    today = timezone.localdate().isoformat()
    for response in (
            client.post(amendments_url(contract), {"reason": "x", "changes": {"amount": "1.00"}}, format="json"),
            client.patch(url(draft), {"reason": "x", "version": 1}, format="json"),
            client.post(url(draft, "submit"), {}, format="json"),
            client.post(url(draft, "sign"), {"signed_on": today}, format="json"),
            client.post(url(draft, "cancel"), {"reason": "x"}, format="json")):
        assert (response.status_code, code(response)) == (403, "permission_denied"), response.request
    draft.refresh_from_db()
    assert (draft.status, draft.version, contract.amendments.count()) == ("draft", 1, 1)


def test_the_team_edits_its_contracts_amendments(users, contract, draft):
    """The contract's editors: its owner, their team's managers and sales, administrators."""
    assert client_for(users["manager"]).patch(url(draft), {"reason": "主管修改", "version": 1},
                                              format="json").status_code == 200
    assert client_for(users["sales2"]).patch(url(draft), {"reason": "同事修改", "version": 2},
                                             format="json").status_code == 200
    assert client_for(users["admin"]).post(url(draft, "cancel"), {"reason": "管理员作废"},
                                           format="json").status_code == 200


def test_anonymous_is_401(db, users, contract, draft):
    for response in (APIClient().get(amendments_url(contract)), APIClient().get(url(draft)),
                     APIClient().post(url(draft, "submit"), {}, format="json")):
        assert (response.status_code, code(response)) == (401, "not_authenticated")

