"""Invoices over the API: requested, issued, listed and filtered, withdrawn, voided, reversed by red-letter
invoices, and imported from a real XLSX; responses match the schema; refusals answer their code; hostile
input answers 400 naming the field; another team's contract or invoice is missing (404)."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from qiyue.finance.models import Invoice
from qiyue.finance.tests.test_api import client_for, code, conforms, schema  # noqa: F401  (fixture)
from qiyue.finance.tests.test_invoices import DIGITAL, DIGITAL_RED, HEADER, TAXPAYER, line
from qiyue.finance.tests.test_invoices import contract as contract  # noqa: F401, PLC0414  (fixture)

pytestmark = pytest.mark.django_db
D = Decimal
day = datetime.date


def invoices_url(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/invoices/"


def invoice_url(invoice_id, action: str = "") -> str:
    return f"/api/v1/invoices/{invoice_id}/" + (f"{action}/" if action else "")


def ask(users, contract, who="sales", **body):
    return client_for(users[who]).post(invoices_url(contract), {"total": "56500.00", "tax_rate": "13", **body},
                                       format="json")


def test_a_request_issued_and_listed(users, contract, schema):  # noqa: F811
    response = ask(users, contract)
    assert response.status_code == 201, response.content
    body = conforms(schema, response, "/api/v1/contracts/{id}/invoices/", "post")
    assert body["status"] == "requested" and body["amount_excluding_tax"] == "50000.00"
    assert body["buyer_taxpayer_id"] == TAXPAYER and body["kind"] == "digital_special"
    finance = client_for(users["finance"])
    issued = finance.post(invoice_url(body["id"], "issue"), {"number": DIGITAL, "issued_on": "2026-03-01",
                                                            "version": body["version"]}, format="json")
    assert issued.status_code == 200, issued.content
    assert conforms(schema, issued, "/api/v1/invoices/{id}/issue/", "post")["status"] == "issued"
    listed = client_for(users["sales"]).get("/api/v1/invoices/", {"status": "issued", "number": DIGITAL})
    assert [row["id"] for row in conforms(schema, listed, "/api/v1/invoices/")["results"]] == [body["id"]]
    contract_body = client_for(users["sales"]).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert contract_body["invoiced_amount"] == "56500.00"
    money = client_for(users["sales"]).get(f"/api/v1/contracts/{contract.pk}/money/").json()
    assert (money["invoiced"], money["invoice_requested"], money["uninvoiced"]) == ("56500.00", "0.00", "56500.00")
    assert conforms(schema, client_for(users["sales"]).get(invoices_url(contract)),
                    "/api/v1/contracts/{id}/invoices/")["count"] == 1


def test_finance_records_an_issued_invoice_directly_and_sales_cannot(users, contract, schema):  # noqa: F811
    body = {"status": "issued", "number": DIGITAL, "issued_on": "2026-03-01", "total": "1130.00"}
    assert code(ask(users, contract, **body)) == "permission_denied"
    response = ask(users, contract, who="finance", **body)
    assert response.status_code == 201 and response.json()["number"] == DIGITAL


def test_withdraw_void_and_red_letter(users, contract, schema):  # noqa: F811
    finance = client_for(users["finance"])
    request_id = ask(users, contract).json()["id"]
    assert code(client_for(users["sales"]).post(invoice_url(request_id, "withdraw"), {}, format="json")) == \
        "reason_required"
    withdrawn = client_for(users["sales"]).post(invoice_url(request_id, "withdraw"), {"reason": "Wrong title"},
                                                format="json")
    assert conforms(schema, withdrawn, "/api/v1/invoices/{id}/withdraw/", "post")["status"] == "withdrawn"

    paper = ask(users, contract, who="finance", status="issued", kind="paper_special", code="4403191130",
                number="01234567", issued_on="2026-03-01", total="11300.00").json()
    assert code(client_for(users["sales"]).post(invoice_url(paper["id"], "void"), {"reason": "x"},
                                                format="json")) == "permission_denied"
    voided = finance.post(invoice_url(paper["id"], "void"), {"reason": "Wrong buyer"}, format="json")
    assert conforms(schema, voided, "/api/v1/invoices/{id}/void/", "post")["status"] == "voided"

    digital = ask(users, contract, who="finance", status="issued", number=DIGITAL, issued_on="2026-03-01").json()
    assert code(finance.post(invoice_url(digital["id"], "void"), {"reason": "x"}, format="json")) == \
        "invoice_cannot_void"
    red = finance.post(invoice_url(digital["id"], "red-letter"), {
        "number": DIGITAL_RED, "issued_on": "2026-03-02", "red_reason": "returned", "total": "11300.00",
        "red_confirmation": "44030026030500001"}, format="json")
    assert red.status_code == 201, red.content
    body = conforms(schema, red, "/api/v1/invoices/{id}/red-letter/", "post")
    assert body["is_red"] and body["signed_total"] == "-11300.00" and body["reverses"] == digital["id"]
    contract.refresh_from_db()
    assert contract.invoiced_amount == D("45200.00")


def test_beyond_the_contract(users, contract):  # noqa: F811
    assert ask(users, contract, total="113000.00").status_code == 201
    response = ask(users, contract, total="1.00")
    assert response.status_code == 400 and code(response) == "invoice_exceeds_contract"
    response = ask(users, contract, who="finance", total="1.00")
    assert "over_contract_reason" in response.json()["fields"]
    assert ask(users, contract, who="finance", total="1.00", over_contract_reason="Extra").status_code == 201


@pytest.mark.parametrize(("body", "field"), [
    ({"total": "abc"}, "total"),
    ({"total": "1" * 30}, "total"),
    ({"total": "10.001"}, "total"),
    ({"tax_rate": "101"}, "tax_rate"),
    ({"tax_rate": ["13"]}, "tax_rate"),
    ({"kind": "gold"}, "kind"),
    ({"status": "voided"}, "status"),
    ({"installment": "x"}, "installment"),
    ({"installment": 10**30}, "installment"),
    ({"installment": 999999}, "installment"),  # no installment of this contract
    ({"note": "x" * 1001}, "note"),
    ({"buyer_taxpayer_id": "not-an-id"}, "buyer_taxpayer_id"),
    ({"total": None, "amount_excluding_tax": None}, "total"),
])
def test_hostile_input_is_a_clear_400_naming_the_field(users, contract, body, field):  # noqa: F811
    response = ask(users, contract, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert Invoice.objects.count() == 0


def test_hostile_issue_and_red_letter_input(users, contract):  # noqa: F811
    finance = client_for(users["finance"])
    request_id = ask(users, contract).json()["id"]
    for body, field in (({}, "number"), ({"number": DIGITAL}, "issued_on"),
                        ({"number": DIGITAL, "issued_on": "2026-13-01"}, "issued_on"),
                        ({"number": DIGITAL * 2, "issued_on": "2026-03-01"}, "number"),
                        ({"number": DIGITAL, "issued_on": "2026-03-01", "version": "x"}, "version")):
        response = finance.post(invoice_url(request_id, "issue"), body, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], (body, response.content)
    stale = finance.post(invoice_url(request_id, "issue"), {"number": DIGITAL, "issued_on": "2026-03-01",
                                                            "version": 9}, format="json")
    assert stale.status_code == 409 and code(stale) == "stale_version"
    response = finance.post(invoice_url(request_id, "red-letter"), {"number": DIGITAL_RED, "issued_on": "2026-03-01",
                                                                    "red_reason": "nope"}, format="json")
    assert response.status_code == 400 and "red_reason" in response.json()["fields"]
    assert code(finance.post(invoice_url(request_id, "red-letter"), {
        "number": DIGITAL_RED, "issued_on": "2026-03-01", "red_reason": "error"}, format="json")) == "invoice_state"


def test_another_teams_contract_and_invoice_are_missing(users, contract):  # noqa: F811
    invoice_id = ask(users, contract).json()["id"]
    other = client_for(users["sales_b"])
    assert other.get(invoices_url(contract)).status_code == 404
    assert other.post(invoices_url(contract), {"total": "1", "tax_rate": "13"}, format="json").status_code == 404
    assert other.get(invoice_url(invoice_id)).status_code == 404
    assert other.post(invoice_url(invoice_id, "withdraw"), {"reason": "x"}, format="json").status_code == 404
    assert other.get("/api/v1/invoices/").json()["count"] == 0
    assert client_for(users["sales"]).get("/api/v1/invoices/", {"contract": "x"}).status_code == 400


def export(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "发票导出.xlsx"
    return out


def test_import_over_the_api(users, contract, schema):  # noqa: F811
    finance = client_for(users["finance"])
    assert client_for(users["sales"]).post("/api/v1/invoices/import/", {"file": export([line(contract)])},
                                           format="multipart").status_code == 403
    response = finance.post("/api/v1/invoices/import/", {"file": export([line(contract)])}, format="multipart")
    assert response.status_code == 200, response.content
    body = conforms(schema, response, "/api/v1/invoices/import/", "post")
    assert body["recorded"] == 1 and body["rows"] == [{"line": 2, "number": DIGITAL, "outcome": "recorded"}]
    bad = finance.post("/api/v1/invoices/import/", {"file": export([line(contract, "12")])}, format="multipart")
    assert bad.status_code == 400 and bad.json()["fields"]["rows"][0].startswith("Row 2:")
    missing = finance.post("/api/v1/invoices/import/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["fields"]
    junk = io.BytesIO(b"junk")
    junk.name = "x.xlsx"
    response = finance.post("/api/v1/invoices/import/", {"file": junk}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["fields"]
    assert Invoice.objects.count() == 1
