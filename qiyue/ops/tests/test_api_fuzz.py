"""schemathesis against a live test server: every operation of the schema the server publishes, for an
admin and a sales person (token authentication), with valid and invalid generated input. Bounded so it
fits in CI: hypothesis derandomized (a fixed seed), EXAMPLES per operation and mode, no shrinking.
Required: no server error, every status code, content type and response body as the schema says.

The data is disposable (a transactional test: the live server's thread has its own connection), so
the generated writes — creates, updates, transitions, deletes — go to the real database."""

import datetime
from collections import Counter

import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qiyue.accounts.services import delegation_create, token_issue
from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.audit.models import AuditEvent
from qiyue.contracts import amendments
from qiyue.contracts.models import ContractType
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.services import communication_create, contact_create
from qiyue.documents.services import document_upload, paper_original_lend, paper_original_record
from qiyue.documents.tests.factories import make_pdf, storage_fixture, upload  # noqa: F401  (`storage`)
from qiyue.finance import services as finance
from qiyue.notifications.models import Notification
from qiyue.workflow.services import flow_save
from qiyue.workflow.tests.factories import approve_through

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 6  # per operation and run (valid input, invalid input, valid input on an existing row)
TODAY = datetime.date(2026, 3, 1)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def _data(storage) -> tuple[dict, dict]:
    """Users by role, and the ids of one row of each kind that the sales person owns (by path segment)."""
    team, other = make_team("Fuzz East"), make_team("Fuzz West")
    users = {"admin": make_user("admin", username="fuzz_admin"), "sales": make_user("sales", team, username="fuzz_sales")}
    stranger = make_user("sales", other, username="fuzz_sales_b")
    ids = {}
    contract_type = ContractType.objects.create(name_zh="模糊测试类型")
    flow = flow_save(actor=users["admin"], flow=None, data={"name_zh": "模糊测试流程", "active": False, "steps": [
        {"name_zh": "审批", "approvers": [{"type": "role", "value": "admin"}]}]})
    for owner in (stranger, users["sales"]):
        contract = make_contract(owner)
        customer = contract.customer
        contact = contact_create(actor=owner, customer=customer, data={"name": "联系人"})
        communication = communication_create(actor=owner, customer=customer,
                                             data={"occurred_on": TODAY, "channel": "phone", "summary": "拜访"})
        document = document_upload(actor=owner, files=[upload("正文.pdf", make_pdf(), "application/pdf")],
                                   contract=contract)[0]
        paper = paper_original_record(actor=owner, contract=contract, data={"room": "档案室", "copies": 1})
        loan = paper_original_lend(actor=owner, original=paper, borrower=owner, lent_on=TODAY)
        ids = {"contracts": contract.pk, "customers": customer.pk, "contacts": contact.pk,
               "communications": communication.pk, "documents": document.pk,
               "document-versions": document.current_version_id, "paper-originals": paper.pk,
               "paper-loans": loan.pk, "users": owner.pk, "contract-types": contract_type.pk,
               "audit-events": AuditEvent.objects.filter(contract_id=contract.pk).order_by("seq")[0].pk,
               "notifications": Notification.objects.create(recipient=owner, kind="contract.assigned",
                                                            params={"actor": "模糊", "number": "1", "title": "合同"},
                                                            url=f"/contracts/{contract.pk}/").pk,
               "approval-flows": flow.pk,
               "delegations": delegation_create(actor=owner, user=owner, delegate=users["admin"],
                                                starts_on=timezone.localdate(),
                                                ends_on=timezone.localdate() + datetime.timedelta(days=30)).pk}
    amendment = _amendment(users["sales"])
    ids["amendments"] = amendment.pk
    # A signed contract's money: a payment and an obligation to name.
    contract = amendment.contract
    finance.payment_plan_save(actor=users["admin"], contract=contract, expected_version=None,
                              installments=[{"due_date": TODAY, "amount": "1000.00"}])
    ids["payments"] = finance.payment_record(actor=users["admin"], contract=contract,
                                             data={"amount": "10.00", "received_on": TODAY})[0].pk
    ids["obligations"] = finance.obligation_create(actor=users["sales"], contract=contract,
                                                   data={"description": "交付"}).pk
    from qiyue.reminders.models import ReminderRule

    ids["reminder-rules"] = ReminderRule.objects.order_by("pk").values_list("pk", flat=True).first()
    ids["issues"] = finance.issue_create(actor=users["sales"], contract=contract, data={"title": "风险"}).pk
    ids["invoices"] = finance.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "10.00", "tax_rate": "13", "kind": "digital_general"}).pk
    return users, ids


def _amendment(owner):
    """A draft amendment of a signed contract of `owner`'s."""
    contract = make_contract(owner)
    approve_through(contract_transition(actor=owner, contract=contract, name="submit"))
    contract = contract_transition(actor=owner, contract=contract, name="sign", signing_method="wet_ink",
                                   signing_date=TODAY)
    return amendments.amendment_create(actor=owner, contract=contract,
                                       data={"reason": "追加采购", "changes": {"amount": "200000.00"}})


def _fuzz(base: str, headers: dict, ids: dict) -> tuple[int, int, dict]:
    """Run every operation; returns (requests, checks run, {operation: failure descriptions})."""
    published = requests.get(f"{base}/api/schema/", params={"format": "json"}, headers=headers, timeout=30)
    assert published.status_code == 200
    schema = schemathesis.openapi.from_dict(published.json())
    sent, failures = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        # Valid and invalid input (ids mostly unknown: 404s), then valid input on a row that exists.
        runs = [(mode, None) for mode in MODES]
        if "{id}" in operation.path:
            runs.append((schemathesis.GenerationMode.POSITIVE, {"id": ids[operation.path.split("/")[3]]}))
        for mode, path_parameters in runs:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            try:
                found = _run(strategy, base, headers, sent)
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body: "mark all read"); valid input is run.
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
                continue
            if found:
                failures[f"{operation.label} ({mode.value}{', existing id' if path_parameters else ''})"] = found
    print(f"statuses: {dict(sorted(Counter(sent).items()))}")
    return len(sent), len(sent) * len(CHECKS), failures


def _run(strategy, base: str, headers: dict, sent: list) -> set[str]:
    failures = set()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        # A connection per request: keep-alive against the test server costs a delayed ACK (~40 ms) each.
        response = case.call(base_url=base, headers=headers, timeout=60)
        sent.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers,
                                   transport_kwargs={"base_url": base, "headers": headers})
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.add(f"{failure.title}: {failure.message[:300]} [{response.status_code}] "
                             f"{case.as_curl_command()[:300]}")

    run()
    return failures


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_api_conforms_to_its_schema(live_server, transactional_db, storage, role):
    users, ids = _data(storage)
    token = token_issue(actor=users[role], user=users[role])
    cases, checks, failures = _fuzz(live_server.url, {"Authorization": f"Token {token.key}"}, ids)
    print(f"schemathesis ({role}): {cases} requests, {checks} checks, {sum(map(len, failures.values()))} failures")
    assert cases > 300
    assert not failures, "\n".join(f"{op}:\n  " + "\n  ".join(sorted(titles)) for op, titles in failures.items())
