"""Review and approval API through DRF's client: a contract submitted, decided step by step and
approved; the other actions on an approval; flows, exchange rates, delegations, the pre-review; and
for each input the hostile cases (wrong type, huge value, missing field, a contract of another team,
someone else's task, a stale version, a task decided meanwhile). Assertions are on codes."""

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

from qiyue.accounts.models import Delegation
from qiyue.accounts.services import delegation_create
from qiyue.contracts.models import Contract, ExchangeRate, Status
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.validators import MAX_ID
from qiyue.documents.models import Document
from qiyue.documents.tests.factories import make_pdf, storage_fixture, upload  # noqa: F401  (`storage`)
from qiyue.ops.tests.test_responses_match_schema import _json_schema
from qiyue.workflow import checklist
from qiyue.workflow.models import Approval, ApprovalFlow, ApprovalTask, TaskStatus
from qiyue.workflow.tests.factories import make_flow, step

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/approval-tasks/"
FLOWS = "/api/v1/approval-flows/"
RATES = "/api/v1/exchange-rates/"
DELEGATIONS = "/api/v1/delegations/"
FULL_CHECKLIST = {key: {"mark": "pass", "note": ""} for key in checklist.KEYS}
SMALL = Decimal("5000")  # below the default flow's finance threshold (100,000 CNY): no finance step


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def approval_url(contract, action: str = "") -> str:
    return f"/api/v1/contracts/{contract.pk}/approval/" + (f"{action}/" if action else "")


def submit(user, contract) -> None:
    response = client_for(user).post(f"/api/v1/contracts/{contract.pk}/submit/", {}, format="json")
    assert response.status_code == 200, response.content


def open_task(user, contract) -> tuple[int, int]:
    """(task id, approval version) of `user`'s open task on `contract`, read from their inbox."""
    response = client_for(user).get(TASKS)
    assert response.status_code == 200
    row = next(r for r in response.json()["results"] if r["contract"]["id"] == contract.pk)
    return row["id"], row["approval_version"]


def decide(user, contract, decision: str = "approve", **body):
    task, version = open_task(user, contract)
    body = {"task": task, "decision": decision, "version": version, **body}
    return client_for(user).post(approval_url(contract, "decide"), body, format="json")


def running(contract) -> Approval:
    return Approval.objects.get(contract=contract, status="running")


def code(response) -> str:
    return response.json()["code"]


@pytest.fixture
def submitted(users):
    """A small contract of sales (team A) submitted through the API: its team manager decides first."""
    contract = make_contract(users["sales"], amount=SMALL)
    submit(users["sales"], contract)
    return contract


# --- The happy path ----------------------------------------------------------------------------------

def test_submit_decide_and_approve_through_the_api(users, submitted):
    contract = submitted
    inbox = client_for(users["manager"]).get(TASKS).json()
    assert inbox["count"] == 1
    row = inbox["results"][0]
    assert row["contract"] == {"id": contract.pk, "number": contract.number, "title": contract.title,
                               "customer_name": contract.customer.name, "amount": "5000.00", "currency": "CNY"}
    assert row["step_name"] == "Manager approval" and row["review"] == "" and row["status"] == "open"
    assert row["submitted_by"] == {"id": users["sales"].pk, "name": str(users["sales"])}
    assert row["on_behalf_of"] is None and row["opened_at"] and row["decided_at"] is None
    assert client_for(users["legal"]).get(TASKS).json()["count"] == 0  # not their turn yet

    response = decide(users["manager"], contract, comment="同意")
    assert response.status_code == 200, response.content
    history = response.json()
    assert [s["status"] for s in history[0]["steps"]] == ["done", "active", "skipped"]

    legal_row = client_for(users["legal"]).get(TASKS).json()["results"][0]
    assert legal_row["review"] == "legal"
    refused = decide(users["legal"], contract)  # no checklist in a legal review step
    assert refused.status_code == 400 and code(refused) == "checklist_incomplete"
    assert all(name.startswith("checklist") for name in refused.json()["fields"])
    response = decide(users["legal"], contract, checklist=FULL_CHECKLIST)
    assert response.status_code == 200, response.content

    contract.refresh_from_db()
    assert contract.status == Status.APPROVED
    approval = response.json()[0]
    assert approval["status"] == "approved" and approval["current_step"] is None and approval["finished_at"]
    assert approval["flow_name"] == "Standard approval" and approval["flow_version"] == 1
    manager_step, legal_step, finance_step = approval["steps"]
    assert manager_step["tasks"][0]["assignee"]["id"] == users["manager"].pk
    assert manager_step["tasks"][0]["comment"] == "同意" and manager_step["tasks"][0]["status"] == "approved"
    assert legal_step["review"] == "legal" and legal_step["tasks"][0]["checklist"] == FULL_CHECKLIST
    assert finance_step["status"] == "skipped" and finance_step["tasks"] == []
    assert finance_step["skipped_because"] == {"field": "amount_cny", "op": "gte", "value": "100000"}

    decided = client_for(users["manager"]).get(TASKS, {"status": "decided"}).json()
    assert [r["status"] for r in decided["results"]] == ["approved"] and decided["results"][0]["decided_at"]
    assert client_for(users["manager"]).get(TASKS).json()["count"] == 0


def test_finance_reviews_a_large_contract_and_an_issue_needs_a_comment(users):
    contract = make_contract(users["sales"])  # 100,000 CNY: the finance step applies
    submit(users["sales"], contract)
    assert decide(users["manager"], contract).status_code == 200
    assert decide(users["legal"], contract, checklist=FULL_CHECKLIST).status_code == 200
    with_issue = {**FULL_CHECKLIST, "compliance": {"mark": "issue", "note": "付款条件"}}
    refused = decide(users["finance"], contract, checklist=with_issue)
    assert refused.status_code == 400 and code(refused) == "checklist_incomplete" and "comment" in refused.json()["fields"]
    response = decide(users["finance"], contract, checklist=with_issue, comment="已与客户确认")
    assert response.status_code == 200
    assert response.json()[0]["steps"][2]["tasks"][0]["checklist"]["compliance"] == {"mark": "issue", "note": "付款条件"}
    contract.refresh_from_db()
    assert contract.status == Status.APPROVED


def test_step_names_follow_the_request_language(users, submitted):
    client = client_for(users["manager"])
    assert client.get(TASKS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["step_name"] == "主管审批"
    history = client.get(approval_url(submitted), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert history[0]["flow_name"] == "标准审批" and history[0]["steps"][0]["name"] == "主管审批"


def test_responses_match_the_published_schema(users, submitted):
    client = client_for(users["admin"])
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    defs = _json_schema(schema["components"]["schemas"])
    delegation_create(actor=users["legal"], user=users["legal"], delegate=users["finance"],
                      starts_on=timezone.localdate(), ends_on=timezone.localdate())
    client_for(users["manager"]).post(approval_url(submitted, "comments"), {"text": "请看"}, format="json")
    decide(users["manager"], submitted)
    for template, url in (("/api/v1/contracts/{id}/approval/", approval_url(submitted)),
                          ("/api/v1/approval-tasks/", TASKS),
                          ("/api/v1/approval-flows/", FLOWS),
                          ("/api/v1/approval-flows/{id}/", f"{FLOWS}{ApprovalFlow.objects.get(is_default=True).pk}/"),
                          ("/api/v1/exchange-rates/", RATES),
                          ("/api/v1/delegations/", f"{DELEGATIONS}?user={users['legal'].pk}"),
                          ("/api/v1/contracts/{id}/prereview/", f"/api/v1/contracts/{submitted.pk}/prereview/")):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        content = schema["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
        jsonschema.validate(response.json(), {**_json_schema(copy.deepcopy(content["schema"])), "$defs": defs})


# --- Reading: the history and the inbox ---------------------------------------------------------------

def test_history_is_404_for_a_contract_of_another_team(users, submitted):
    for name in ("sales_b", "manager_b"):
        response = client_for(users[name]).get(approval_url(submitted))
        assert response.status_code == 404 and code(response) == "not_found"
    assert client_for(users["sales2"]).get(approval_url(submitted)).status_code == 200
    assert client_for(users["auditor"]).get(approval_url(submitted)).status_code == 200
    assert client_for(users["sales"]).get("/api/v1/contracts/abc/approval/").status_code == 404
    assert client_for(users["sales"]).get(f"/api/v1/contracts/{MAX_ID + 1}/approval/").status_code == 404


def test_history_of_a_draft_is_empty_and_newest_comes_first(users, submitted):
    draft = make_contract(users["sales"])
    assert client_for(users["sales"]).get(approval_url(draft)).json() == []
    assert client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {}, format="json").status_code == 200
    submit(users["sales"], submitted)
    history = client_for(users["sales"]).get(approval_url(submitted)).json()
    assert [a["status"] for a in history] == ["running", "withdrawn"]


def test_history_and_inbox_query_counts_do_not_grow_with_rows(users):
    contracts = [make_contract(users["sales"], amount=SMALL) for _ in range(3)]
    submit(users["sales"], contracts[0])

    def queries(user, url) -> int:
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    one_history, one_inbox = queries(users["sales"], approval_url(contracts[0])), queries(users["manager"], TASKS)
    for contract in contracts[1:]:
        submit(users["sales"], contract)
    client_for(users["manager"]).post(approval_url(contracts[0], "comments"), {"text": "意见"}, format="json")
    decide(users["manager"], contracts[0])
    client_for(users["sales"]).post(approval_url(contracts[1], "withdraw"), {}, format="json")
    submit(users["sales"], contracts[1])
    assert queries(users["sales"], approval_url(contracts[0])) <= one_history
    assert queries(users["sales"], approval_url(contracts[1])) <= one_history
    assert queries(users["manager"], TASKS) <= one_inbox
    assert queries(users["manager"], f"{TASKS}?status=decided") <= one_inbox


@pytest.mark.parametrize("value", ["bogus", "OPEN", "open,decided"])
def test_inbox_refuses_an_unknown_status(users, value):
    response = client_for(users["manager"]).get(TASKS, {"status": value})
    assert response.status_code == 400 and code(response) == "invalid" and "status" in response.json()["fields"]


def test_inbox_is_the_users_own_and_needs_a_user(users, submitted):
    assert client_for(users["manager_b"]).get(TASKS).json()["count"] == 0
    assert client_for(users["admin"]).get(TASKS).json()["count"] == 0
    assert APIClient().get(TASKS).status_code == 401


# --- Deciding: hostile input ----------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"task": "abc"}, "task"),
    ({"task": 10**30}, "task"),
    ({"task": -1}, "task"),
    ({"task": None}, "task"),
    ({"task": [1]}, "task"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": ["approve"]}, "decision"),
    ({"comment": "长" * 2001}, "comment"),
    ({"comment": {"a": 1}}, "comment"),
    ({"checklist": "pass"}, "checklist"),
    ({"checklist": [1, 2]}, "checklist"),
    ({"checklist": {f"k{n}": {"mark": "pass"} for n in range(50)}}, "checklist"),
    ({"checklist": {"legality": {"mark": "maybe"}}}, "checklist.legality.mark"),
    ({"checklist": {"legality": {"mark": "pass", "note": "长" * 501}}}, "checklist.legality.note"),
    ({"return_to": "first"}, "return_to"),
    ({"return_to": 10**9}, "return_to"),
    ({"version": 0}, "version"),
    ({"version": "v2"}, "version"),
    ({"version": 10**30}, "version"),
])
def test_decide_refuses_wrong_types_and_huge_values(users, submitted, change, field):
    task, version = open_task(users["manager"], submitted)
    body = {"task": task, "decision": "approve", "version": version, **change}
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"), body, format="json")
    assert response.status_code == 400, response.content
    assert code(response) == "invalid" and field in response.json()["fields"]
    assert ApprovalTask.objects.get(pk=task).status == TaskStatus.OPEN


@pytest.mark.parametrize("missing", ["task", "decision"])
def test_decide_refuses_a_missing_field(users, submitted, missing):
    task, version = open_task(users["manager"], submitted)
    body = {"task": task, "decision": "approve", "version": version}
    del body[missing]
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"), body, format="json")
    assert response.status_code == 400 and code(response) == "invalid"
    assert response.json()["field_codes"][missing] == ["required"]


def test_decide_refuses_a_body_that_is_no_object(users, submitted):
    client = client_for(users["manager"])
    response = client.post(approval_url(submitted, "decide"), [1, 2], format="json")
    assert response.status_code == 400 and code(response) == "invalid"
    response = client.post(approval_url(submitted, "decide"), "{not json", content_type="application/json")
    assert response.status_code == 400 and code(response) == "parse_error"


def test_decide_on_a_contract_of_another_team_is_404(users, submitted):
    task, version = open_task(users["manager"], submitted)
    response = client_for(users["manager_b"]).post(approval_url(submitted, "decide"),
                                                   {"task": task, "decision": "approve"}, format="json")
    assert response.status_code == 404 and code(response) == "not_found"
    assert ApprovalTask.objects.get(pk=task).status == TaskStatus.OPEN


@pytest.mark.parametrize("name", ["legal", "sales2", "admin", "auditor"])
def test_deciding_someone_elses_task_is_403(users, submitted, name):
    task, version = open_task(users["manager"], submitted)
    response = client_for(users[name]).post(approval_url(submitted, "decide"),
                                            {"task": task, "decision": "approve", "version": version}, format="json")
    assert response.status_code == 403 and code(response) == "permission_denied"
    assert ApprovalTask.objects.get(pk=task).status == TaskStatus.OPEN


def test_a_task_of_another_contract_is_not_found(users, submitted):
    other = make_contract(users["sales2"], amount=SMALL)
    submit(users["sales2"], other)
    task, _version = open_task(users["manager"], other)
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"),
                                                 {"task": task, "decision": "approve"}, format="json")
    assert response.status_code == 404 and code(response) == "not_found"
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"),
                                                 {"task": MAX_ID, "decision": "approve"}, format="json")
    assert response.status_code == 404 and code(response) == "not_found"


def test_a_stale_version_is_409(users, submitted):
    task, version = open_task(users["manager"], submitted)
    client_for(users["sales"]).post(approval_url(submitted, "comments"), {"text": "补充材料"}, format="json")
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"),
                                                 {"task": task, "decision": "approve", "version": version},
                                                 format="json")
    assert response.status_code == 409 and code(response) == "stale_version"
    assert ApprovalTask.objects.get(pk=task).status == TaskStatus.OPEN


def test_a_task_decided_meanwhile_is_409_task_closed(users, submitted):
    task, version = open_task(users["manager"], submitted)
    client = client_for(users["manager"])
    assert client.post(approval_url(submitted, "decide"), {"task": task, "decision": "approve"},
                       format="json").status_code == 200
    again = client.post(approval_url(submitted, "decide"), {"task": task, "decision": "approve"}, format="json")
    assert again.status_code == 409 and code(again) == "task_closed"


def test_another_approver_deciding_first_closes_ones_task(users):
    make_flow(users["admin"], [step("会审", "legal", "finance", mode="any"), step("主管", "team_manager")],
              default=True)
    contract = make_contract(users["sales"], amount=SMALL)
    submit(users["sales"], contract)
    finance_task, _version = open_task(users["finance"], contract)
    assert decide(users["legal"], contract).status_code == 200
    response = client_for(users["finance"]).post(approval_url(contract, "decide"),
                                                 {"task": finance_task, "decision": "approve"}, format="json")
    assert response.status_code == 409 and code(response) == "task_closed"


def test_deciding_after_the_approval_ended_is_409(users, submitted):
    task, _version = open_task(users["manager"], submitted)
    client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {}, format="json")
    response = client_for(users["manager"]).post(approval_url(submitted, "decide"),
                                                 {"task": task, "decision": "approve"}, format="json")
    assert response.status_code == 409 and code(response) == "task_closed"
    draft = make_contract(users["sales"])
    response = client_for(users["manager"]).post(approval_url(draft, "decide"), {"task": task, "decision": "approve"},
                                                 format="json")
    assert response.status_code == 409


def test_reject_needs_a_reason_and_returns_the_contract_to_draft(users, submitted):
    refused = decide(users["manager"], submitted, "reject")
    assert refused.status_code == 400 and code(refused) == "reason_required"
    response = decide(users["manager"], submitted, "reject", comment="金额有误")
    assert response.status_code == 200
    assert response.json()[0]["status"] == "rejected" and response.json()[0]["outcome_reason"] == "金额有误"
    submitted.refresh_from_db()
    assert submitted.status == Status.DRAFT


def test_return_to_an_earlier_step(users, submitted):
    assert decide(users["manager"], submitted).status_code == 200
    refused = decide(users["legal"], submitted, "return", comment="请主管再看", return_to=1,  # not earlier
                     checklist=FULL_CHECKLIST)
    assert refused.status_code == 400 and code(refused) == "invalid" and "return_to" in refused.json()["fields"]
    response = decide(users["legal"], submitted, "return", comment="请主管再看", return_to=0, checklist=FULL_CHECKLIST)
    assert response.status_code == 200, response.content
    steps = response.json()[0]["steps"]
    assert steps[0]["status"] == "active" and steps[0]["round"] == 2
    assert [t["status"] for t in steps[1]["tasks"]] == ["returned"]
    assert open_task(users["manager"], submitted)


# --- Handing on: transfer, adding an approver ------------------------------------------------------------

def test_transfer_hands_the_task_on(users, submitted):
    task, version = open_task(users["manager"], submitted)
    response = client_for(users["manager"]).post(approval_url(submitted, "transfer"),
                                                 {"task": task, "to": users["legal"].pk, "comment": "请法务先看",
                                                  "version": version}, format="json")
    assert response.status_code == 200, response.content
    tasks = response.json()[0]["steps"][0]["tasks"]
    assert [(t["assignee"]["id"], t["status"]) for t in tasks] == [(users["manager"].pk, "transferred"),
                                                                   (users["legal"].pk, "open")]
    assert tasks[1]["transferred_from"]["id"] == users["manager"].pk


@pytest.mark.parametrize(("to", "status", "error"), [
    ("sales2", 400, "not_eligible"),  # no reviewer
    ("manager", 400, "not_eligible"),  # oneself
    ("manager_b", 400, "not_eligible"),  # does not see the contract
    ("sales", 400, "not_eligible"),  # the owner
    (MAX_ID, 400, "not_eligible"),  # nobody
    ("abc", 400, "invalid"),
    (10**30, 400, "invalid"),
    (None, 400, "invalid"),
])
def test_transfer_refuses_who_may_not_take_the_task(users, submitted, to, status, error):
    task, version = open_task(users["manager"], submitted)
    target = users[to].pk if to in users else to
    response = client_for(users["manager"]).post(approval_url(submitted, "transfer"),
                                                 {"task": task, "to": target, "version": version}, format="json")
    assert response.status_code == status and code(response) == error
    assert "to" in response.json()["fields"]
    assert ApprovalTask.objects.get(pk=task).status == TaskStatus.OPEN


def test_transfer_checks_the_task_and_the_version(users, submitted):
    task, version = open_task(users["manager"], submitted)
    body = {"task": task, "to": users["legal"].pk}
    assert code(client_for(users["finance"]).post(approval_url(submitted, "transfer"), body,
                                                  format="json")) == "permission_denied"
    assert client_for(users["sales_b"]).post(approval_url(submitted, "transfer"), body,
                                             format="json").status_code == 404
    stale = client_for(users["manager"]).post(approval_url(submitted, "transfer"), {**body, "version": version + 5},
                                              format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    long = client_for(users["manager"]).post(approval_url(submitted, "transfer"), {**body, "comment": "x" * 2001},
                                             format="json")
    assert long.status_code == 400 and code(long) == "invalid"


def test_add_an_approver_before_oneself(users, submitted):
    task, version = open_task(users["manager"], submitted)
    client = client_for(users["manager"])
    response = client.post(approval_url(submitted, "add-approver"),
                           {"task": task, "user": users["finance"].pk, "position": "before", "version": version},
                           format="json")
    assert response.status_code == 200, response.content
    tasks = response.json()[0]["steps"][0]["tasks"]
    assert {(t["assignee"]["id"], t["status"]) for t in tasks} == {(users["manager"].pk, "waiting"),
                                                                   (users["finance"].pk, "open")}
    waiting = client.post(approval_url(submitted, "decide"), {"task": task, "decision": "approve"}, format="json")
    assert waiting.status_code == 409 and code(waiting) == "task_closed"
    assert decide(users["finance"], submitted).status_code == 200
    assert decide(users["manager"], submitted).status_code == 200
    assert running(submitted).current_step == 1


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"position": "middle"}, 400, "invalid"),
    ({"position": None}, 400, "invalid"),
    ({"user": "legal"}, 400, "invalid"),
    ({"user": 0}, 400, "invalid"),
    ({"comment": "x" * 2001}, 400, "invalid"),
    ({"user": MAX_ID}, 400, "not_eligible"),
    ({"version": 99}, 409, "stale_version"),
])
def test_add_approver_refuses_bad_input(users, submitted, change, status, error):
    task, version = open_task(users["manager"], submitted)
    body = {"task": task, "user": users["legal"].pk, "position": "after", "version": version, **change}
    response = client_for(users["manager"]).post(approval_url(submitted, "add-approver"), body, format="json")
    assert response.status_code == status and code(response) == error
    assert ApprovalTask.objects.filter(approval__contract=submitted).count() == 1


def test_add_approver_on_someone_elses_task_is_403(users, submitted):
    task, _version = open_task(users["manager"], submitted)
    response = client_for(users["legal"]).post(approval_url(submitted, "add-approver"),
                                               {"task": task, "user": users["finance"].pk, "position": "after"},
                                               format="json")
    assert response.status_code == 403 and code(response) == "permission_denied"


# --- The owner's side: withdraw, urge ------------------------------------------------------------------

def test_withdraw(users, submitted):
    version = running(submitted).version
    assert code(client_for(users["sales2"]).post(approval_url(submitted, "withdraw"), {},
                                                 format="json")) == "permission_denied"
    assert client_for(users["sales_b"]).post(approval_url(submitted, "withdraw"), {}, format="json").status_code == 404
    stale = client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {"version": version + 1},
                                            format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    long = client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {"reason": "x" * 1001}, format="json")
    assert long.status_code == 400 and code(long) == "invalid" and "reason" in long.json()["fields"]
    wrong = client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {"reason": ["a"]}, format="json")
    assert wrong.status_code == 400 and code(wrong) == "invalid"
    response = client_for(users["sales"]).post(approval_url(submitted, "withdraw"),
                                               {"reason": "改金额", "version": version}, format="json")
    assert response.status_code == 200
    assert response.json()[0]["status"] == "withdrawn"
    submitted.refresh_from_db()
    assert submitted.status == Status.DRAFT
    again = client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {}, format="json")
    assert again.status_code == 409 and code(again) == "illegal_transition"


def test_withdraw_after_a_decision_is_409(users, submitted):
    assert decide(users["manager"], submitted).status_code == 200
    response = client_for(users["sales"]).post(approval_url(submitted, "withdraw"), {}, format="json")
    assert response.status_code == 409 and code(response) == "already_decided"


def test_urge_at_most_once_an_hour(users, submitted):
    assert code(client_for(users["manager"]).post(approval_url(submitted, "urge"))) == "permission_denied"
    assert client_for(users["sales_b"]).post(approval_url(submitted, "urge")).status_code == 404
    response = client_for(users["sales"]).post(approval_url(submitted, "urge"))
    assert response.status_code == 200 and response.json()[0]["status"] == "running"
    again = client_for(users["sales"]).post(approval_url(submitted, "urge"))
    assert again.status_code == 429 and code(again) == "urged_recently"
    draft = make_contract(users["sales"])
    assert code(client_for(users["sales"]).post(approval_url(draft, "urge"))) == "illegal_transition"


# --- Comments ------------------------------------------------------------------------------------------

def test_comments_as_json_and_with_an_attachment(users, submitted, storage):
    response = client_for(users["manager"]).post(approval_url(submitted, "comments"), {"text": "请补充附件"},
                                                 format="json")
    assert response.status_code == 201, response.content
    assert response.json()["author"]["id"] == users["manager"].pk and response.json()["document"] is None
    response = client_for(users["sales"]).post(
        approval_url(submitted, "comments"),
        {"text": "附件已补充", "attachment": upload("补充.pdf", make_pdf(), "application/pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["document"])
    assert document.contract_id == submitted.pk
    comments = client_for(users["legal"]).get(approval_url(submitted)).json()[0]["comments"]
    assert [c["text"] for c in comments] == ["请补充附件", "附件已补充"]


def test_comments_refuse_bad_input_and_outsiders(users, submitted, storage):
    client = client_for(users["sales"])
    url = approval_url(submitted, "comments")
    for body in ({}, {"text": ""}, {"text": "x" * 2001}, {"text": ["a"]}, {"text": None}):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and code(response) == "invalid", body
    two = client.post(url, {"text": "两个", "attachment": [upload("a.pdf", make_pdf(), "application/pdf"),
                                                         upload("b.pdf", make_pdf(), "application/pdf")]},
                      format="multipart")
    assert two.status_code == 400 and code(two) == "invalid"
    bad = client.post(url, {"text": "坏文件", "attachment": upload("a.pdf", b"\x7fELF" + b"\0" * 100)},
                      format="multipart")
    assert bad.status_code == 400 and code(bad) == "file_type_not_allowed", bad.content
    for name, status in (("auditor", 403), ("sales2", 403), ("sales_b", 404), ("manager_b", 404)):
        assert client_for(users[name]).post(url, {"text": "路过"}, format="json").status_code == status, name
    draft = make_contract(users["sales"])
    never = client.post(approval_url(draft, "comments"), {"text": "草稿"}, format="json")
    assert never.status_code == 409 and code(never) == "illegal_transition"


def test_a_comment_attachment_over_the_limit_is_413(users, submitted, storage, settings):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    response = client_for(users["sales"]).post(
        approval_url(submitted, "comments"),
        {"text": "大文件", "attachment": upload("big.pdf", make_pdf() + b"\0" * (2 * 1024 * 1024), "application/pdf")},
        format="multipart")
    assert response.status_code == 413 and code(response) == "file_too_large"


# --- Delegations ----------------------------------------------------------------------------------------

def _delegation_body(person, **change) -> dict:
    today = timezone.localdate()
    return {"delegate": person.pk, "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=7)).isoformat(), "note": "年假", **change}


def test_a_delegate_decides_on_the_away_approvers_behalf(users):
    response = client_for(users["manager"]).post(DELEGATIONS, _delegation_body(users["legal"]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["id"] == users["manager"].pk and body["delegate"]["id"] == users["legal"].pk
    contract = make_contract(users["sales"], amount=SMALL)
    submit(users["sales"], contract)
    row = client_for(users["legal"]).get(TASKS).json()["results"][0]
    assert row["on_behalf_of"]["id"] == users["manager"].pk
    assert client_for(users["manager"]).get(TASKS).json()["count"] == 0
    assert client_for(users["manager"]).get(DELEGATIONS).json()["count"] == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"delegate": "abc"}, "delegate"),
    ({"delegate": 10**30}, "delegate"),
    ({"delegate": MAX_ID}, "delegate"),
    ({"starts_on": "tomorrow"}, "starts_on"),
    ({"ends_on": 20260101}, "ends_on"),
    ({"note": "x" * 201}, "note"),
    ({"user": "me"}, "user"),
])
def test_delegation_refuses_wrong_types_and_huge_values(users, change, field):
    response = client_for(users["manager"]).post(DELEGATIONS, _delegation_body(users["legal"], **change), format="json")
    assert response.status_code == 400 and code(response) == "invalid" and field in response.json()["fields"]
    assert not Delegation.objects.exists()


def test_delegation_rules_are_the_services(users):
    today = timezone.localdate()
    client = client_for(users["manager"])
    backwards = client.post(DELEGATIONS, _delegation_body(users["legal"], ends_on=(today - datetime.timedelta(
        days=1)).isoformat()), format="json")
    assert backwards.status_code == 400 and "ends_on" in backwards.json()["fields"]
    oneself = client.post(DELEGATIONS, _delegation_body(users["manager"]), format="json")
    assert oneself.status_code == 400 and "delegate" in oneself.json()["fields"]
    for_another = client.post(DELEGATIONS, _delegation_body(users["legal"], user=users["sales"].pk), format="json")
    assert for_another.status_code == 403 and code(for_another) == "permission_denied"
    by_admin = client_for(users["admin"]).post(DELEGATIONS, _delegation_body(users["legal"], user=users["sales"].pk),
                                               format="json")
    assert by_admin.status_code == 201 and by_admin.json()["user"]["id"] == users["sales"].pk


def test_others_delegations_are_404_except_to_admins(users):
    today = timezone.localdate()
    running_one = delegation_create(actor=users["admin"], user=users["manager"], delegate=users["legal"],
                                    starts_on=today, ends_on=today + datetime.timedelta(days=3))
    Delegation.objects.filter(pk=running_one.pk).update(starts_on=today - datetime.timedelta(days=2))
    later = delegation_create(actor=users["manager"], user=users["manager"], delegate=users["legal"],
                              starts_on=today + datetime.timedelta(days=10),
                              ends_on=today + datetime.timedelta(days=12))
    for name in ("sales", "legal", "manager_b"):
        response = client_for(users[name]).post(f"{DELEGATIONS}{running_one.pk}/end/")
        assert response.status_code == 404 and code(response) == "not_found", name
        assert client_for(users[name]).get(DELEGATIONS).json()["count"] == 0
    listed = client_for(users["sales"]).get(DELEGATIONS, {"user": users["manager"].pk})
    assert listed.status_code == 403 and code(listed) == "permission_denied"
    assert client_for(users["admin"]).get(DELEGATIONS, {"user": users["manager"].pk}).json()["count"] == 2
    assert client_for(users["admin"]).get(DELEGATIONS, {"user": "x"}).status_code == 400
    assert client_for(users["admin"]).get(DELEGATIONS, {"user": MAX_ID}).status_code == 400

    ended = client_for(users["admin"]).post(f"{DELEGATIONS}{running_one.pk}/end/")
    assert ended.status_code == 200 and ended.json()["ends_on"] == (today - datetime.timedelta(days=1)).isoformat()
    removed = client_for(users["manager"]).post(f"{DELEGATIONS}{later.pk}/end/")
    assert removed.status_code == 204 and not Delegation.objects.filter(pk=later.pk).exists()
    for pk in ("abc", MAX_ID + 1, later.pk):
        assert client_for(users["manager"]).post(f"{DELEGATIONS}{pk}/end/").status_code == 404


# --- Pre-review ---------------------------------------------------------------------------------------

def test_prereview_latest_run_and_run_now(users):
    contract = make_contract(users["sales"])
    url = f"/api/v1/contracts/{contract.pk}/prereview/"
    assert client_for(users["sales"]).get(url).json() == {"run": None}
    response = client_for(users["sales"]).post(url)
    assert response.status_code == 200, response.content
    run = response.json()["run"]
    assert run["trigger"] == "manual" and run["risk_level"] and isinstance(run["findings"], list)
    assert client_for(users["legal"]).get(url).json()["run"]["id"] == run["id"]
    assert code(client_for(users["auditor"]).post(url)) == "permission_denied"
    assert client_for(users["sales_b"]).get(url).status_code == 404
    assert client_for(users["sales_b"]).post(url).status_code == 404


# --- Administration: flows and exchange rates ------------------------------------------------------------

FLOW_BODY = {"name_zh": "大额合同", "name_en": "Large contracts", "position": 10,
             "conditions": [{"field": "amount_cny", "op": "gte", "value": "1000000"}],
             "steps": [step("主管", "team_manager"), step("法务", "legal", review="legal")]}


@pytest.mark.parametrize("name", ["manager", "sales", "legal", "finance", "auditor"])
def test_flows_and_rates_are_for_administrators(users, name):
    client = client_for(users[name])
    flow = ApprovalFlow.objects.get(is_default=True)
    for response in (client.get(FLOWS), client.post(FLOWS, FLOW_BODY, format="json"), client.get(f"{FLOWS}{flow.pk}/"),
                     client.patch(f"{FLOWS}{flow.pk}/", {"description": "x", "version": flow.version}, format="json"),
                     client.put(f"{FLOWS}{flow.pk}/", {**FLOW_BODY, "version": flow.version}, format="json"),
                     client.get(RATES),
                     client.post(RATES, {"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"}, format="json")):
        assert response.status_code == 403 and code(response) == "permission_denied"
    assert client.get(f"{FLOWS}{MAX_ID}/").status_code == 403  # the role first, then the id
    assert APIClient().get(FLOWS).status_code == 401


def test_admin_creates_and_changes_a_flow(users):
    client = client_for(users["admin"])
    response = client.post(FLOWS, FLOW_BODY, format="json")
    assert response.status_code == 201, response.content
    flow = response.json()
    assert flow["flow_version"] == 1 and flow["version"] == 1 and len(flow["steps"]) == 2
    assert flow["conditions"] == FLOW_BODY["conditions"] and flow["active"] is True and flow["is_default"] is False
    url = f"{FLOWS}{flow['id']}/"
    renamed = client.patch(url, {"description": "一百万以上", "version": 1}, format="json")
    assert renamed.status_code == 200 and renamed.json()["version"] == 2 and renamed.json()["flow_version"] == 1
    stale = client.patch(url, {"description": "旧页面", "version": 1}, format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    no_version = client.patch(url, {"description": "无版本"}, format="json")
    assert no_version.status_code == 400 and "version" in no_version.json()["fields"]
    steps = client.put(url, {**FLOW_BODY, "steps": [step("法务", "legal")], "version": 2}, format="json")
    assert steps.status_code == 200 and steps.json()["flow_version"] == 2 and len(steps.json()["steps"]) == 1
    assert client.get(url).json()["steps"][0]["name_zh"] == "法务"
    assert [f["id"] for f in client.get(FLOWS).json()["results"]][0] == ApprovalFlow.objects.get(is_default=True).pk
    for pk in ("abc", MAX_ID, MAX_ID + 1, -1):
        assert client.get(f"{FLOWS}{pk}/").status_code == 404


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"steps": [step("主管")]}, "flow_invalid", "steps.0.approvers"),
    ({"steps": [{"name_zh": "主管", "approvers": [{"type": "role", "value": "sales"}]}]}, "flow_invalid",
     "steps.0.approvers"),
    ({"steps": [{"name_zh": "", "approvers": [{"type": "role", "value": "legal"}]}]}, "flow_invalid", "steps.0.name_zh"),
    ({"steps": [{**step("法务", "legal"), "mode": "some"}]}, "flow_invalid", "steps.0.mode"),
    ({"steps": ["法务"]}, "flow_invalid", "steps.0"),
    ({"steps": [step("法务", "legal", when=[{"field": "amount_cny", "op": "gte", "value": "x"}])]}, "flow_invalid",
     "steps.0.when.0"),
    ({"conditions": [{"field": "colour", "op": "in", "value": ["red"]}]}, "flow_invalid", "conditions.0"),
    ({"conditions": [{"field": "amount_cny", "op": "gte", "value": "10"},
                     {"field": "amount_cny", "op": "lt", "value": "5"}]}, "flow_invalid", "conditions"),
    ({"is_default": True}, "flow_invalid", "conditions"),
    ({"steps": []}, "flow_invalid", "steps"),
    ({"steps": "法务"}, "invalid", "steps"),
    ({"steps": [step("法务", "legal")] * 21}, "invalid", "steps"),
    ({"conditions": {"field": "amount_cny"}}, "invalid", "conditions"),
    ({"name_zh": "长" * 101}, "invalid", "name_zh"),
    ({"name_zh": ["法务"]}, "invalid", "name_zh"),
    ({"description": "长" * 501}, "invalid", "description"),
    ({"position": -1}, "invalid", "position"),
    ({"position": 10**6}, "invalid", "position"),
    ({"position": "first"}, "invalid", "position"),
    ({"active": "maybe"}, "invalid", "active"),
])
def test_flow_input_is_checked(users, change, error, field):
    body = {**FLOW_BODY, **change}
    before = ApprovalFlow.objects.count()
    response = client_for(users["admin"]).post(FLOWS, body, format="json")
    assert response.status_code == 400, response.content
    assert code(response) == error and field in response.json()["fields"], response.json()
    assert ApprovalFlow.objects.count() == before


@pytest.mark.parametrize("missing", ["name_zh", "steps"])
def test_flow_needs_a_name_and_steps(users, missing):
    body = {key: value for key, value in FLOW_BODY.items() if key != missing}
    response = client_for(users["admin"]).post(FLOWS, body, format="json")
    assert response.status_code == 400 and response.json()["field_codes"][missing] == ["required"]


def test_admin_sets_exchange_rates(users):
    client = client_for(users["admin"])
    response = client.post(RATES, {"currency": "usd", "rate": "7.123456", "valid_from": "2026-01-01"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "USD" and response.json()["rate"] == "7.123456"
    again = client.post(RATES, {"currency": "USD", "rate": "7.2", "valid_from": "2026-01-01"}, format="json")
    assert again.status_code == 201 and ExchangeRate.objects.get().rate == Decimal("7.2")
    assert client.get(RATES).json()["count"] == 1
    for body, field in (({"currency": "CNY"}, "currency"), ({"currency": "XYZ"}, "currency"),
                        ({"currency": "DOLLARS"}, "currency"), ({"rate": "abc"}, "rate"), ({"rate": "1e30"}, "rate"),
                        ({"rate": "0"}, "rate"), ({"rate": "1.1234567"}, "rate"), ({"valid_from": "soon"}, "valid_from"),
                        ({"valid_from": None}, "valid_from")):
        response = client.post(RATES, {"currency": "EUR", "rate": "7.8", "valid_from": "2026-01-01", **body},
                               format="json")
        assert response.status_code == 400 and code(response) == "invalid" and field in response.json()["fields"], body
    assert ExchangeRate.objects.count() == 1


def test_a_new_flow_applies_to_the_next_submission(users):
    client_for(users["admin"]).post(FLOWS, {**FLOW_BODY, "conditions": [], "steps": [step("法务", "legal")],
                                            "conditions_note": "ignored"}, format="json")
    flow = ApprovalFlow.objects.get(name_zh="大额合同")
    client_for(users["admin"]).patch(f"{FLOWS}{flow.pk}/", {"conditions": [
        {"field": "amount_cny", "op": "gte", "value": "1000"}], "version": flow.version}, format="json")
    contract = make_contract(users["sales"], amount=SMALL)
    submit(users["sales"], contract)
    history = client_for(users["sales"]).get(approval_url(contract)).json()
    assert history[0]["flow"] == flow.pk and [s["name_zh"] for s in history[0]["steps"]] == ["法务"]
    assert Contract.objects.get(pk=contract.pk).status == Status.IN_REVIEW
