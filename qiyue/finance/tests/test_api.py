"""Execution and money over the API: the money summary, the payment plan, payments (recorded, replayed
with an Idempotency-Key, reversed, listed and filtered) and obligations, with real requests; each refusal by
its code, hostile input answered 400 naming the field, and a contract, payment or obligation of another
team as missing (404)."""

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
from qiyue.contracts.tests.factories import make_contract
from qiyue.finance import services
from qiyue.finance.models import Installment, Obligation, Payment
from qiyue.finance.tests.factories import plan, signed_contract
from qiyue.ops.tests.test_responses_match_schema import _json_schema

pytestmark = pytest.mark.django_db
D = Decimal
day = datetime.date


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def code(response) -> str:
    return response.json()["code"]


def money_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/money/"


def plan_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/payment-plan/"


def payments_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/payments/"


def obligations_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/obligations/"


def obligation_url(obligation, action: str = "") -> str:
    return f"/api/v1/obligations/{obligation.pk}/" + (f"{action}/" if action else "")


def installments(contract) -> list[Installment]:
    return list(Installment.objects.filter(contract=contract).order_by("position"))


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    plan(users["finance"], contract, (day(2026, 2, 1), "30000.00"), (day(2026, 4, 1), "50000.00"),
         (day(2026, 6, 1), "20000.00"))
    return contract


@pytest.fixture
def finance(users):
    return client_for(users["finance"])


@pytest.fixture
def schema(users):
    return json.loads(client_for(users["auditor"]).get("/api/schema/", {"format": "json"}).content)


def conforms(schema, response, template: str, method: str = "get"):
    """The response body validates against what the schema says this operation answers."""
    content = schema["paths"][template][method]["responses"][str(response.status_code)]["content"]
    wanted = _json_schema(copy.deepcopy(content["application/json"]["schema"]))
    jsonschema.validate(response.json(), {**wanted, "$defs": _json_schema(schema["components"]["schemas"])})
    return response.json()


PAID_ON = day(2026, 5, 1)


def pay(users, contract, amount, *, on=PAID_ON, **kwargs):
    return services.payment_record(actor=users["finance"], contract=contract,
                                   data={"amount": amount, "received_on": on}, **kwargs)[0]


# --- The money summary ----------------------------------------------------------------------------------

def test_the_money_summary(users, contract, schema):
    pay(users, contract, "40000.00")
    response = client_for(users["sales"]).get(money_url(contract), {"as_of": "2026-05-01"})
    assert response.status_code == 200, response.json()
    body = conforms(schema, response, "/api/v1/contracts/{id}/money/")
    assert {key: body[key] for key in ("currency", "contracted", "planned", "unplanned", "received", "advance",
                                       "outstanding", "overdue", "received_share", "plan_version")} == {
        "currency": "CNY", "contracted": "100000.00", "planned": "100000.00", "unplanned": "0.00",
        "received": "40000.00", "advance": "0.00", "outstanding": "60000.00", "overdue": "40000.00",
        "received_share": 40, "plan_version": 2}
    assert body["aging"] == {"not_due": "20000.00", "d1_30": "40000.00", "d31_60": "0.00", "d61_90": "0.00",
                             "over_90": "0.00"}
    first, second, third = body["installments"]
    rows = installments(contract)
    assert [row["id"] for row in body["installments"]] == [row.pk for row in rows]
    assert first == {"id": rows[0].pk, "position": 1, "due_date": "2026-02-01", "amount": "30000.00",
                     "currency": "CNY", "condition": "", "obligation": None, "days_after": 0,
                     "received": "30000.00", "paid_on": "2026-05-01", "status": "open", "outstanding": "0.00",
                     "overdue": False, "days_overdue": 0, "aging_bucket": "", "limitation": ""}
    assert (second["received"], second["outstanding"], second["overdue"], second["days_overdue"],
            second["aging_bucket"]) == ("10000.00", "40000.00", True, 30, "d1_30")
    assert (third["overdue"], third["aging_bucket"], third["paid_on"]) == (False, "not_due", None)

    later = client_for(users["sales"]).get(money_url(contract), {"as_of": "2029-01-15"}).json()
    assert [row["limitation"] for row in later["installments"]] == ["", "approaching", "approaching"]
    assert later["aging"]["over_90"] == "60000.00"


def test_a_contract_without_a_plan(users, schema):
    contract = make_contract(users["sales"], amount=D("5000.00"))
    response = client_for(users["sales"]).get(money_url(contract))
    body = conforms(schema, response, "/api/v1/contracts/{id}/money/")
    assert (body["plan_version"], body["installments"], body["planned"], body["unplanned"]) == (
        0, [], "0.00", "5000.00")


@pytest.mark.parametrize("as_of", ["yesterday", "2026-02-30", "2026-1-1x"])
def test_a_bad_as_of_is_refused(users, contract, as_of):
    response = client_for(users["sales"]).get(money_url(contract), {"as_of": as_of})
    assert response.status_code == 400 and code(response) == "invalid"
    assert list(response.json()["fields"]) == ["as_of"]


@pytest.mark.parametrize("who", ["sales_b", "manager_b"])
def test_another_teams_contract_is_missing(users, contract, who):
    client = client_for(users[who])
    for response in (client.get(money_url(contract)), client.get(payments_url(contract)),
                     client.get(obligations_url(contract)),
                     client.put(plan_url(contract), {"installments": []}, format="json"),
                     client.post(payments_url(contract), {"amount": "1.00", "received_on": "2026-05-01"},
                                 format="json"),
                     client.post(obligations_url(contract), {"description": "交付"}, format="json")):
        assert response.status_code == 404 and code(response) == "not_found"
    assert not Payment.objects.exists() and not Obligation.objects.exists()
    assert client_for(users["finance"]).get("/api/v1/contracts/999999/money/").status_code == 404
    assert client_for(users["finance"]).get("/api/v1/contracts/abc/money/").status_code == 404


# --- The payment plan ----------------------------------------------------------------------------------

def test_saving_the_plan(users, contract, finance, schema):
    first, second, third = installments(contract)
    response = finance.put(plan_url(contract), {"version": 2, "installments": [
        {"id": second.pk, "due_date": "2026-04-15", "amount": "45000.00", "condition": "验收后"},
        {"id": first.pk, "due_date": "2026-02-01", "amount": "30000.00"},
        {"due_date": "2026-09-01", "amount": 5000}]}, format="json")
    assert response.status_code == 200, response.json()
    body = conforms(schema, response, "/api/v1/contracts/{id}/payment-plan/", "put")
    assert body["plan_version"] == 3 and (body["planned"], body["unplanned"]) == ("80000.00", "20000.00")
    assert [(row["id"], row["position"], row["amount"], row["due_date"], row["condition"])
            for row in body["installments"]] == [
        (second.pk, 1, "45000.00", "2026-04-15", "验收后"), (first.pk, 2, "30000.00", "2026-02-01", ""),
        (body["installments"][2]["id"], 3, "5000.00", "2026-09-01", "")]
    assert not Installment.objects.filter(pk=third.pk).exists()
    assert AuditEvent.objects.filter(action="payment_plan.saved", target_id=str(contract.pk)).count() == 2


def test_the_first_plan_is_saved_against_version_0(users, finance):
    contract = signed_contract(users["sales"], amount="1000.00")
    assert finance.get(money_url(contract)).json()["plan_version"] == 0
    rows = {"installments": [{"due_date": "2026-03-01", "amount": "1000.00"}], "version": 0}
    response = finance.put(plan_url(contract), rows, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["plan_version"] == 2
    # Someone else saved the first plan meanwhile: the editor who saw none is stale.
    stale = finance.put(plan_url(contract), rows, format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"


def test_a_stale_plan_is_refused(users, contract, finance):
    rows = [{"id": row.pk, "due_date": row.due_date.isoformat(), "amount": str(row.amount)}
            for row in installments(contract)]
    assert finance.put(plan_url(contract), {"version": 2, "installments": rows[:2]}, format="json").status_code == 200
    response = finance.put(plan_url(contract), {"version": 2, "installments": rows}, format="json")
    assert response.status_code == 409 and code(response) == "stale_version"
    assert "version" in response.json()["fields"]
    assert len(installments(contract)) == 2


def test_a_plan_beyond_the_contract_is_refused(contract, finance):
    response = finance.put(plan_url(contract), {"installments": [
        {"due_date": "2026-02-01", "amount": "60000.00"}, {"due_date": "2026-03-01", "amount": "40000.01"}]},
        format="json")
    assert response.status_code == 400 and code(response) == "plan_exceeds_contract"
    assert "installments" in response.json()["fields"]


def test_an_installment_keeps_what_it_received(users, contract, finance):
    pay(users, contract, "35000.00")
    rows = [{"id": row.pk, "due_date": row.due_date.isoformat(), "amount": str(row.amount)}
            for row in installments(contract)]
    rows[1]["amount"] = "4000.00"
    response = finance.put(plan_url(contract), {"installments": rows}, format="json")
    assert response.status_code == 409 and code(response) == "installment_has_payments"
    assert response.json()["fields"] == {"installments.1.amount": ["At least what it has received."]}
    assert response.json()["field_codes"] == {"installments.1.amount": ["installment_has_payments"]}


ROW = {"due_date": "2026-01-01", "amount": "10.00"}


@pytest.mark.parametrize(("body", "field"), [
    ({"installments": "nonsense"}, "installments"),
    ({"installments": {"0": ROW}}, "installments"),
    ({}, "installments"),
    ([ROW], "non_field_errors"),
    ({"installments": [ROW] * 121}, "installments"),
    ({"installments": [ROW] * 10_000}, "installments"),
    ({"installments": [[1, 2]]}, "installments.0.non_field_errors"),
    ({"installments": ["10.00"]}, "installments.0.non_field_errors"),
    ({"installments": [{"due_date": "2026-01-01"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "abc"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": [10]}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "-1"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "0"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "1.001"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "1e30"}]}, "installments.0.amount"),
    ({"installments": [{**ROW, "amount": "NaN"}]}, "installments.0.amount"),
    ({"installments": [{"amount": "10.00"}]}, "installments.0.due_date"),
    ({"installments": [{**ROW, "due_date": 20260101}]}, "installments.0.due_date"),
    ({"installments": [{**ROW, "due_date": "2026-13-01"}]}, "installments.0.due_date"),
    ({"installments": [{**ROW, "condition": "x" * 301}]}, "installments.0.condition"),
    ({"installments": [{**ROW, "condition": {"a": 1}}]}, "installments.0.condition"),
    ({"installments": [{**ROW, "id": "x"}]}, "installments.0.id"),
    ({"installments": [{**ROW, "id": 999_999}]}, "installments.0.id"),
    ({"installments": [{**ROW, "id": 2**70}]}, "installments.0.id"),
    ({"installments": [{"amount": "10.00", "obligation": 999_999}]}, "installments.0.obligation"),
    ({"installments": [{**ROW, "days_after": "many"}]}, "installments.0.days_after"),
    ({"installments": [{**ROW, "days_after": 99_999}]}, "installments.0.days_after"),
    ({"installments": [], "version": "two"}, "version"),
    ({"installments": [], "version": -1}, "version"),
    ({"installments": [], "version": 2**40}, "version"),
])
def test_hostile_plans_are_refused_with_their_field(contract, finance, body, field):
    before = [(row.pk, row.amount, row.due_date) for row in installments(contract)]
    response = finance.put(plan_url(contract), body, format="json")
    assert response.status_code == 400, response.json()
    assert code(response) == "invalid" and field in response.json()["fields"], response.json()
    assert [(row.pk, row.amount, row.due_date) for row in installments(contract)] == before


def test_the_plan_is_written_by_finance_once_signed(users, contract):
    body = {"installments": [ROW]}
    for who in ("sales", "manager", "legal", "auditor"):
        response = client_for(users[who]).put(plan_url(contract), body, format="json")
        assert response.status_code == 403 and code(response) == "permission_denied", who
    # Refused before its input is read: a stranger to the plan learns nothing from a bad body.
    assert client_for(users["sales"]).put(plan_url(contract), {"installments": "x"}, format="json").status_code == 403
    draft = make_contract(users["sales"], amount=D("1000.00"))
    response = client_for(users["sales"]).put(plan_url(draft), {"installments": [ROW]}, format="json")
    assert response.status_code == 200 and response.json()["planned"] == "10.00"
    assert client_for(users["admin"]).put(plan_url(contract), body, format="json").status_code == 200


# --- Payments ------------------------------------------------------------------------------------------

def test_recording_a_payment_with_an_allocation(users, contract, finance, schema):
    first, second, third = installments(contract)
    response = finance.post(payments_url(contract), {
        "amount": "25000.00", "received_on": "2026-05-01", "method": "acceptance_bill", "payer": "上海某某有限公司",
        "bank_reference": "CMB-0001", "note": "第一笔", "allocations": {str(third.pk): "20000.00", second.pk: 5000}},
        format="json")
    assert response.status_code == 201, response.json()
    body = conforms(schema, response, "/api/v1/contracts/{id}/payments/", "post")
    payment = Payment.objects.get()
    assert {key: body[key] for key in ("id", "contract", "customer", "received_on", "amount", "currency", "method",
                                       "bank_reference", "payer", "note", "advance", "status", "reversed_at",
                                       "reversal_reason", "created_by")} == {
        "id": payment.pk, "contract": contract.pk, "customer": contract.customer_id, "received_on": "2026-05-01",
        "amount": "25000.00", "currency": "CNY", "method": "acceptance_bill", "bank_reference": "CMB-0001",
        "payer": "上海某某有限公司", "note": "第一笔", "advance": "0.00", "status": "recorded", "reversed_at": None,
        "reversal_reason": "", "created_by": users["finance"].pk}
    assert body["allocations"] == [{"installment": second.pk, "position": 2, "amount": "5000.00"},
                                   {"installment": third.pk, "position": 3, "amount": "20000.00"}]
    assert body["created_at"] and body["created_by_name"] == str(users["finance"])
    assert [row.received for row in installments(contract)] == [D("0.00"), D("5000.00"), D("20000.00")]
    assert "Idempotent-Replayed" not in response

    listed = client_for(users["sales"]).get(payments_url(contract))
    assert listed.status_code == 200
    page = conforms(schema, listed, "/api/v1/contracts/{id}/payments/")
    assert page["count"] == 1 and page["results"][0] == body


def test_without_an_allocation_the_oldest_is_paid_first(users, contract, finance):
    response = finance.post(payments_url(contract), {"amount": "40000", "received_on": "2026-05-01"}, format="json")
    assert response.status_code == 201, response.json()
    assert [(row["position"], row["amount"]) for row in response.json()["allocations"]] == [
        (1, "30000.00"), (2, "10000.00")]
    assert response.json()["method"] == "bank_transfer"


def test_an_overpayment_is_refused_unless_it_is_an_advance(contract, finance):
    response = finance.post(payments_url(contract), {"amount": "100000.01", "received_on": "2026-05-01"},
                            format="json")
    assert response.status_code == 400 and code(response) == "overpayment"
    assert "amount" in response.json()["fields"] and not Payment.objects.exists()
    response = finance.post(payments_url(contract), {"amount": "100500.00", "received_on": "2026-05-01",
                                                     "as_advance": True}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["advance"] == "500.00"
    summary = finance.get(money_url(contract)).json()
    assert (summary["received"], summary["advance"], summary["outstanding"]) == ("100500.00", "500.00", "0.00")


def test_an_idempotency_key_records_one_payment(users, contract, finance, schema):
    body = {"amount": "100.00", "received_on": "2026-05-01", "payer": "某某公司"}
    first = finance.post(payments_url(contract), body, format="json", HTTP_IDEMPOTENCY_KEY="pay-0001")
    assert first.status_code == 201, first.json()
    # The same body, as the client sends it again (another spelling of the same amount): the same payment.
    again = finance.post(payments_url(contract), {**body, "amount": 100}, format="json",
                         HTTP_IDEMPOTENCY_KEY="pay-0001")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert conforms(schema, again, "/api/v1/contracts/{id}/payments/", "post") == first.json()
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1

    other = finance.post(payments_url(contract), {**body, "amount": "200.00"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="pay-0001")
    assert other.status_code == 409 and code(other) == "idempotency_conflict"
    elsewhere = signed_contract(users["sales"], amount="1000.00")
    plan(users["finance"], elsewhere, (day(2026, 2, 1), "1000.00"))
    moved = finance.post(payments_url(elsewhere), body, format="json", HTTP_IDEMPOTENCY_KEY="pay-0001")
    assert moved.status_code == 409 and code(moved) == "idempotency_conflict"
    # Keys are per user; without a key every request is a payment.
    assert client_for(users["admin"]).post(payments_url(contract), body, format="json",
                                           HTTP_IDEMPOTENCY_KEY="pay-0001").status_code == 201
    assert finance.post(payments_url(contract), body, format="json").status_code == 201
    assert Payment.objects.count() == 3

    long_key = finance.post(payments_url(contract), body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert long_key.status_code == 400 and code(long_key) == "invalid"
    assert list(long_key.json()["fields"]) == ["Idempotency-Key"] and Payment.objects.count() == 3


@pytest.mark.parametrize(("body", "field", "error"), [
    ({"amount": "abc"}, "amount", "invalid"),
    ({"amount": None}, "amount", "invalid"),
    ({"amount": "0"}, "amount", "invalid"),
    ({"amount": "-5"}, "amount", "invalid"),
    ({"amount": "1.234"}, "amount", "invalid"),
    ({"amount": {"value": 1}}, "amount", "invalid"),
    ({"received_on": "2099-01-01"}, "received_on", "invalid"),
    ({"received_on": "soon"}, "received_on", "invalid"),
    ({"received_on": None}, "received_on", "invalid"),
    ({"method": "barter"}, "method", "invalid"),
    ({"payer": "x" * 201}, "payer", "invalid"),
    ({"note": ["a"]}, "note", "invalid"),
    ({"currency": "USD"}, "currency", "currency_mismatch"),
    ({"currency": "DOLLARS"}, "currency", "invalid"),
    ({"as_advance": "maybe"}, "as_advance", "invalid"),
    ({"allocations": "all of it"}, "allocations", "invalid"),
    ({"allocations": ["1"]}, "allocations", "invalid"),
    ({"allocations": {"first": "1.00"}}, "allocations", "invalid"),
    ({"allocations": {"1": "abc"}}, "allocations.1", "invalid"),
    ({"allocations": {str(n): "1.00" for n in range(1, 200)}}, "allocations", "invalid"),
    ({"allocations": {"999999": "1.00"}}, "allocations.999999", "allocation_invalid"),
])
def test_hostile_payments_are_refused_with_their_field(contract, finance, body, field, error):
    response = finance.post(payments_url(contract), {"amount": "1.00", "received_on": "2026-05-01", **body},
                            format="json")
    assert response.status_code == 400, response.json()
    assert code(response) == error and field in response.json()["fields"], response.json()
    assert not Payment.objects.exists()


def test_an_allocation_beyond_an_installment_names_it(contract, finance):
    first = installments(contract)[0]
    response = finance.post(payments_url(contract), {"amount": "40000.00", "received_on": "2026-05-01",
                                                     "allocations": {str(first.pk): "30000.01"}}, format="json")
    assert response.status_code == 400 and code(response) == "allocation_invalid"
    assert list(response.json()["fields"]) == [f"allocations.{first.pk}"]


def test_only_finance_and_administrators_record_payments(users, contract):
    for who in ("sales", "manager", "legal", "auditor"):
        response = client_for(users[who]).post(payments_url(contract), {"amount": "1.00", "received_on": "2026-05-01"},
                                               format="json")
        assert response.status_code == 403 and code(response) == "permission_denied", who
    assert not Payment.objects.exists()


def test_a_contract_that_owes_nothing_takes_only_an_advance(users, finance):
    draft = make_contract(users["sales"], amount=D("1000.00"))
    response = finance.post(payments_url(draft), {"amount": "10.00", "received_on": "2026-05-01"}, format="json")
    assert response.status_code == 409 and code(response) == "nothing_owed"
    response = finance.post(payments_url(draft), {"amount": "10.00", "received_on": "2026-05-01",
                                                  "as_advance": True}, format="json")
    assert response.status_code == 201 and response.json()["advance"] == "10.00"


def test_reversing_a_payment(users, contract, finance, schema):
    payment = pay(users, contract, "40000.00")
    url = f"/api/v1/payments/{payment.pk}/reverse/"
    assert client_for(users["sales_b"]).post(url, {"reason": "错"}, format="json").status_code == 404
    refused = client_for(users["sales"]).post(url, {"reason": "错"}, format="json")
    assert refused.status_code == 403 and code(refused) == "permission_denied"
    blank = finance.post(url, {"reason": "  "}, format="json")
    assert blank.status_code == 400 and code(blank) == "reason_required"
    assert finance.post(url, {"reason": "x" * 1001}, format="json").status_code == 400

    response = finance.post(url, {"reason": "银行退票"}, format="json")
    assert response.status_code == 200, response.json()
    body = conforms(schema, response, "/api/v1/payments/{id}/reverse/", "post")
    assert (body["status"], body["reversal_reason"]) == ("reversed", "银行退票") and body["reversed_at"]
    assert [row.received for row in installments(contract)] == [D("0.00")] * 3
    again = finance.post(url, {"reason": "再来"}, format="json")
    assert again.status_code == 409 and code(again) == "already_reversed"
    summary = finance.get(money_url(contract)).json()
    assert (summary["received"], summary["outstanding"]) == ("0.00", "100000.00")


# --- The payments list ----------------------------------------------------------------------------------

@pytest.fixture
def ledger(users, contract):
    """Payments on team A's contract (one reversed) and on team B's."""
    other = signed_contract(users["sales_b"], amount="5000.00")
    plan(users["finance"], other, (day(2026, 2, 1), "5000.00"))
    first = pay(users, contract, "100.00", on=day(2026, 3, 1))
    second = pay(users, contract, "200.00", on=day(2026, 4, 1))
    reversed_ = pay(users, contract, "300.00", on=day(2026, 5, 1))
    services.payment_reverse(actor=users["finance"], payment=reversed_, reason="退票")
    theirs = pay(users, other, "400.00", on=day(2026, 4, 15))
    return {"first": first, "second": second, "reversed": reversed_, "theirs": theirs, "other": other}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_payments_list_filters_and_sorts_newest_first(users, contract, ledger, finance, schema):
    p = ledger
    everything = finance.get("/api/v1/payments/")
    conforms(schema, everything, "/api/v1/payments/")
    assert ids(everything) == [p["reversed"].pk, p["theirs"].pk, p["second"].pk, p["first"].pk]
    assert everything.json()["count"] == 4
    assert ids(finance.get("/api/v1/payments/", {"contract": contract.pk})) == [
        p["reversed"].pk, p["second"].pk, p["first"].pk]
    assert ids(finance.get("/api/v1/payments/", {"customer": p["other"].customer_id})) == [p["theirs"].pk]
    assert ids(finance.get("/api/v1/payments/", {"status": "reversed"})) == [p["reversed"].pk]
    assert ids(finance.get("/api/v1/payments/", {"received_from": "2026-04-01", "received_to": "2026-04-30"})) == [
        p["theirs"].pk, p["second"].pk]
    assert ids(finance.get("/api/v1/payments/", {"page_size": 1, "page": 2})) == [p["theirs"].pk]


def test_each_sees_the_payments_of_the_contracts_they_see(users, contract, ledger):
    p = ledger
    team_a = [p["reversed"].pk, p["second"].pk, p["first"].pk]
    assert ids(client_for(users["sales"]).get("/api/v1/payments/")) == team_a
    assert ids(client_for(users["manager"]).get("/api/v1/payments/")) == team_a
    sales_b = client_for(users["sales_b"])
    assert ids(sales_b.get("/api/v1/payments/")) == [p["theirs"].pk]
    # Naming team A's contract or customer shows nothing of it.
    assert ids(sales_b.get("/api/v1/payments/", {"contract": contract.pk})) == []
    assert ids(sales_b.get("/api/v1/payments/", {"customer": contract.customer_id})) == []
    for payment in (p["first"], p["reversed"]):
        response = sales_b.get(f"/api/v1/payments/{payment.pk}/")
        assert response.status_code == 404 and code(response) == "not_found"
    assert sales_b.get(payments_url(contract)).status_code == 404
    mine = client_for(users["sales"]).get(f"/api/v1/payments/{p['first'].pk}/")
    assert mine.status_code == 200 and mine.json()["amount"] == "100.00"


@pytest.mark.parametrize("query", [{"contract": "abc"}, {"contract": "1.5"}, {"contract": 2**70},
                                   {"contract": 0}, {"customer": "x"}, {"status": "lost"},
                                   {"received_from": "yesterday"}, {"received_to": "2026-02-30"}])
def test_bad_filters_are_refused(users, ledger, finance, query):
    response = finance.get("/api/v1/payments/", query)
    assert response.status_code == 400 and code(response) == "invalid"
    assert list(response.json()["fields"]) == list(query)


def test_the_payments_list_reads_a_fixed_number_of_queries(users, contract, finance):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert finance.get("/api/v1/payments/").status_code == 200
        return len(captured)

    pay(users, contract, "1.00")
    one = queries()
    for n in range(3):
        pay(users, contract, "1.00", on=day(2026, 5, 2 + n))
    assert queries() == one


# --- Obligations ---------------------------------------------------------------------------------------

def test_an_obligation_from_creation_to_completion(users, contract, schema):
    sales = client_for(users["sales"])
    response = sales.post(obligations_url(contract), {"party": "ours", "description": "交付并通过验收",
                                                      "due_date": "2026-03-01", "owner": users["sales"].pk},
                          format="json")
    assert response.status_code == 201, response.json()
    body = conforms(schema, response, "/api/v1/contracts/{id}/obligations/", "post")
    obligation = Obligation.objects.get()
    late = (timezone.localdate() - day(2026, 3, 1)).days
    assert {key: body[key] for key in ("id", "contract", "party", "description", "due_date", "owner", "status",
                                       "done_on", "evidence", "status_reason", "version", "late", "days_late")} == {
        "id": obligation.pk, "contract": contract.pk, "party": "ours", "description": "交付并通过验收",
        "due_date": "2026-03-01", "owner": users["sales"].pk, "status": "open", "done_on": None, "evidence": None,
        "status_reason": "", "version": 1, "late": late > 0, "days_late": max(late, 0)}
    assert body["owner_name"] == str(users["sales"])

    # An installment waits for it: due 30 days after it is done.
    finance = client_for(users["finance"])
    rows = [{"id": row.pk, "due_date": row.due_date.isoformat(), "amount": str(row.amount)}
            for row in installments(contract)]
    rows[2] = {"id": rows[2]["id"], "amount": "20000.00", "obligation": obligation.pk, "days_after": 30,
               "condition": "验收后 30 日"}
    saved = finance.put(plan_url(contract), {"installments": rows}, format="json")
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["installments"][2]["due_date"], saved.json()["installments"][2]["obligation"]) == (
        None, obligation.pk)

    changed = sales.patch(obligation_url(obligation), {"description": "交付两台并通过验收", "version": 1},
                          format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["description"], changed.json()["version"], changed.json()["party"]) == (
        "交付两台并通过验收", 2, "ours")
    conforms(schema, changed, "/api/v1/obligations/{id}/", "patch")
    stale = sales.patch(obligation_url(obligation), {"description": "再改", "version": 1}, format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    no_version = sales.patch(obligation_url(obligation), {"description": "再改"}, format="json")
    assert no_version.status_code == 400 and list(no_version.json()["fields"]) == ["version"]

    stale = sales.post(obligation_url(obligation, "complete"), {"done_on": "2026-03-05", "version": 1},
                       format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    done = sales.post(obligation_url(obligation, "complete"), {"done_on": "2026-03-05", "version": 2},
                      format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["status"], done.json()["done_on"], done.json()["late"], done.json()["version"]) == (
        "done", "2026-03-05", False, 3)
    conforms(schema, done, "/api/v1/obligations/{id}/complete/", "post")
    assert finance.get(money_url(contract)).json()["installments"][2]["due_date"] == "2026-04-04"
    again = sales.post(obligation_url(obligation, "complete"), {"done_on": "2026-03-05"}, format="json")
    assert again.status_code == 409 and code(again) == "obligation_closed"

    reopened = sales.post(obligation_url(obligation, "reopen"), {"version": 3}, format="json")
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert finance.get(money_url(contract)).json()["installments"][2]["due_date"] is None
    not_closed = sales.post(obligation_url(obligation, "reopen"), {}, format="json")
    assert not_closed.status_code == 409 and code(not_closed) == "obligation_closed"

    assert code(sales.post(obligation_url(obligation, "waive"), {"reason": " "}, format="json")) == "reason_required"
    waived = sales.post(obligation_url(obligation, "waive"), {"reason": "客户放弃验收", "version": 4}, format="json")
    assert waived.status_code == 200, waived.json()
    assert (waived.json()["status"], waived.json()["status_reason"], waived.json()["late"]) == (
        "waived", "客户放弃验收", False)
    fetched = sales.get(obligation_url(obligation))
    assert fetched.status_code == 200 and conforms(schema, fetched, "/api/v1/obligations/{id}/") == waived.json()
    assert list(AuditEvent.objects.filter(action__startswith="obligation.").order_by("seq").values_list(
        "action", flat=True)) == ["obligation.created", "obligation.updated", "obligation.done",
                                  "obligation.reopened", "obligation.waived"]


def test_the_obligations_list_open_ones_first_with_lateness(users, contract, schema):
    sales = users["sales"]
    made = [services.obligation_create(actor=sales, contract=contract, data={"description": text, "due_date": due})
            for text, due in (("交付设备", "2026-03-01"), ("提供场地", "2026-02-01"), ("培训", "2099-05-01"))]
    services.obligation_waive(actor=sales, obligation=made[1], reason="客户已自备")
    response = client_for(users["legal"]).get(obligations_url(contract))
    rows = conforms(schema, response, "/api/v1/contracts/{id}/obligations/")
    assert [(row["description"], row["status"], row["late"]) for row in rows] == [
        ("交付设备", "open", True), ("培训", "open", False), ("提供场地", "waived", False)]
    assert rows[0]["days_late"] == (timezone.localdate() - day(2026, 3, 1)).days


def test_an_obligations_owner_completes_it_and_others_may_not_change_it(users, contract):
    obligation = services.obligation_create(actor=users["sales"], contract=contract, data={
        "description": "法务出具意见", "owner": users["legal"].pk})
    legal = client_for(users["legal"])
    refused = legal.post(obligations_url(contract), {"description": "x"}, format="json")
    assert refused.status_code == 403 and code(refused) == "permission_denied"
    for action, body in (("waive", {"reason": "不需要"}), ("reopen", {})):
        response = legal.post(obligation_url(obligation, action), body, format="json")
        assert response.status_code == 403 and code(response) == "permission_denied", action
    assert legal.patch(obligation_url(obligation), {"description": "改", "version": 1},
                       format="json").status_code == 403
    done = legal.post(obligation_url(obligation, "complete"), {"done_on": "2026-03-01"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert client_for(users["auditor"]).post(obligation_url(obligation, "reopen"), {},
                                             format="json").status_code == 403
    sales_b = client_for(users["sales_b"])
    for response in (sales_b.get(obligation_url(obligation)),
                     sales_b.patch(obligation_url(obligation), {"description": "改", "version": 2}, format="json"),
                     sales_b.post(obligation_url(obligation, "reopen"), {}, format="json")):
        assert response.status_code == 404 and code(response) == "not_found"
    assert client_for(users["finance"]).post(obligation_url(obligation, "reopen"), {},
                                             format="json").status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({}, "description"),
    ({"description": ""}, "description"),
    ({"description": "x" * 501}, "description"),
    ({"description": ["交付"]}, "description"),
    ({"description": "x", "party": "them"}, "party"),
    ({"description": "x", "due_date": "soon"}, "due_date"),
    ({"description": "x", "owner": "abc"}, "owner"),
    ({"description": "x", "owner": 2**70}, "owner"),
    ({"description": "x", "owner": 999_999}, "owner"),
])
def test_hostile_obligations_are_refused_with_their_field(users, contract, body, field):
    response = client_for(users["sales"]).post(obligations_url(contract), body, format="json")
    assert response.status_code == 400 and code(response) == "invalid", response.json()
    assert field in response.json()["fields"]
    assert not Obligation.objects.exists()


def test_an_owner_who_cannot_see_the_contract_is_refused(users, contract):
    response = client_for(users["sales"]).post(obligations_url(contract), {
        "description": "x", "owner": users["sales_b"].pk}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["owner"]


@pytest.mark.parametrize(("action", "body", "field"), [
    ("complete", {}, "done_on"),
    ("complete", {"done_on": "2099-01-01"}, "done_on"),
    ("complete", {"done_on": "2026-03-01", "evidence": 999_999}, "evidence"),
    ("complete", {"done_on": "2026-03-01", "evidence": "the contract"}, "evidence"),
    ("complete", {"done_on": "2026-03-01", "version": "one"}, "version"),
    ("waive", {"reason": "x" * 1001}, "reason"),
    ("reopen", {"version": 0}, "version"),
])
def test_hostile_obligation_actions_are_refused(users, contract, action, body, field):
    obligation = services.obligation_create(actor=users["sales"], contract=contract, data={"description": "交付"})
    response = client_for(users["sales"]).post(obligation_url(obligation, action), body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    obligation.refresh_from_db()
    assert (obligation.status, obligation.version) == ("open", 1)
