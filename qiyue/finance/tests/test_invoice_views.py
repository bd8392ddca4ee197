"""Invoices in the UI: the money tab's invoices card and its dialogs (request, record, issue, withdraw,
void, red-letter; a refusal reopens the dialog with the reason and what was entered), and the Invoices
page (filters, finance's import of a real XLSX with its result or every row's problem)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from qiyue.finance import services
from qiyue.finance.models import Invoice
from qiyue.finance.tests.test_invoices import DIGITAL, DIGITAL_2, DIGITAL_RED, HEADER, line
from qiyue.finance.tests.test_invoices import contract as contract  # noqa: F401, PLC0414  (fixture)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
day = datetime.date


def page(client, user, contract):  # noqa: F811
    client.force_login(user)
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_invoices_card_offers_what_each_role_may_do(client, users, contract):  # noqa: F811
    html = page(client, users["sales"], contract)
    assert 'data-testid="invoices"' in html and 'data-testid="open-invoice-request"' in html
    assert 'data-testid="open-invoice-record"' not in html and 'data-testid="invoices-none"' in html
    html = page(client, users["finance"], contract)
    assert 'data-testid="open-invoice-request"' in html and 'data-testid="open-invoice-record"' in html
    html = page(client, users["legal"], contract)
    assert 'data-testid="invoices"' in html and 'data-testid="open-invoice-request"' not in html


def test_request_then_issue_from_the_dialogs(client, users, contract):  # noqa: F811
    client.force_login(users["sales"])
    response = client.post(reverse("finance:invoice_create", args=[contract.pk]), {
        "kind": "digital_special", "total": "56,500.00", "tax_rate": "13", "note": "第一期"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="status-message"' in html
    invoice = Invoice.objects.get()
    assert invoice.status == "requested" and invoice.total == Decimal("56500.00")
    assert 'data-status="requested"' in html and "56,500.00" in html
    assert 'data-testid="open-invoice-withdraw"' in html  # who asked may take it back
    assert 'data-testid="open-invoice-issue"' not in html  # finance issues

    client.force_login(users["finance"])
    html = page(client, users["finance"], contract)
    assert 'data-testid="open-invoice-issue"' in html
    response = client.post(reverse("finance:invoice_issue", args=[contract.pk, invoice.pk]), {
        "number": DIGITAL, "issued_on": "2026-03-01", "kind": "digital_special", "total": "56500.00",
        "tax_rate": "13", "version": invoice.version}, **HX)
    html = response.content.decode()
    assert 'data-status="issued"' in html and DIGITAL in html
    assert 'data-testid="open-invoice-red"' in html and 'data-testid="open-invoice-void"' not in html  # digital
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_a_refused_issue_reopens_its_dialog_with_the_reason_and_what_was_entered(client, users, contract):  # noqa: F811
    invoice = services.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "1130.00", "tax_rate": "13", "kind": "digital_special"})
    client.force_login(users["finance"])
    response = client.post(reverse("finance:invoice_issue", args=[contract.pk, invoice.pk]), {
        "number": "12345", "issued_on": "2026-03-01", "total": "1130.00", "tax_rate": "13"}, **HX)
    html = response.content.decode()
    assert f'id="dialog-invoice-issue-{invoice.pk}"' in html
    dialog = html[html.index(f'id="dialog-invoice-issue-{invoice.pk}"'):]
    dialog = dialog[:dialog.index("</dialog>")]
    assert "data-open" in dialog and "20 digits" in dialog and 'value="12345"' in dialog
    invoice.refresh_from_db()
    assert invoice.status == "requested"


def test_record_red_letter_void_and_withdraw_from_the_dialogs(client, users, contract):  # noqa: F811
    client.force_login(users["finance"])
    response = client.post(reverse("finance:invoice_create", args=[contract.pk]), {
        "status": "issued", "kind": "paper_special", "code": "4403191130", "number": "01234567",
        "issued_on": "2026-03-01", "total": "11300.00", "tax_rate": "13"}, **HX)
    assert 'data-testid="open-invoice-void"' in response.content.decode()
    paper = Invoice.objects.get(number="01234567")
    client.post(reverse("finance:invoice_void", args=[contract.pk, paper.pk]), {"reason": "写错抬头"}, **HX)
    paper.refresh_from_db()
    assert paper.status == "voided" and paper.status_reason == "写错抬头"

    digital = services.invoice_record(actor=users["finance"], contract=contract, data={
        "number": DIGITAL, "issued_on": day(2026, 3, 1), "total": "22600.00", "tax_rate": "13"})
    response = client.post(reverse("finance:invoice_red_letter", args=[contract.pk, digital.pk]), {
        "number": DIGITAL_RED, "issued_on": "2026-03-02", "total": "22600.00", "red_reason": "returned",
        "red_confirmation": "4403", "reason": "退货"}, **HX)
    assert "Reverses" in response.content.decode() or "红冲" in response.content.decode()
    contract.refresh_from_db()
    assert contract.invoiced_amount == 0

    request = services.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "100.00", "tax_rate": "13", "kind": "digital_general"})
    response = client.post(reverse("finance:invoice_withdraw", args=[contract.pk, request.pk]), {"reason": ""}, **HX)
    assert f'id="dialog-invoice-withdraw-{request.pk}"' in response.content.decode()
    client.post(reverse("finance:invoice_withdraw", args=[contract.pk, request.pk]), {"reason": "不需要了"}, **HX)
    request.refresh_from_db()
    assert request.status == "withdrawn"


def test_another_teams_invoice_is_missing_and_sales_cannot_issue(client, users, contract):  # noqa: F811
    invoice = services.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "100.00", "tax_rate": "13", "kind": "digital_general"})
    client.force_login(users["sales_b"])
    assert client.post(reverse("finance:invoice_withdraw", args=[contract.pk, invoice.pk]),
                       {"reason": "x"}).status_code == 404
    client.force_login(users["sales"])
    assert client.post(reverse("finance:invoice_issue", args=[contract.pk, invoice.pk]), {
        "number": DIGITAL, "issued_on": "2026-03-01"}, **HX).status_code == 403
    assert client.post(reverse("finance:invoice_issue", args=[contract.pk, 10**15]), {}).status_code == 404


def export(rows) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("发票.xlsx", out.getvalue())


def test_the_invoices_page_lists_filters_and_imports(client, users, contract):  # noqa: F811
    services.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "100.00", "tax_rate": "13", "kind": "digital_general"})
    client.force_login(users["finance"])
    html = client.get(reverse("finance:invoices")).content.decode()
    assert 'data-testid="invoice-import"' in html and html.count('data-testid="invoice-row"') == 1
    response = client.post(reverse("finance:invoice_import"), {"file": export([line(contract, DIGITAL, 1130),
                                                                                line(contract, DIGITAL_2, 2260)])})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-result"' in html
    assert html.count('data-testid="invoice-row"') == 3
    html = client.get(reverse("finance:invoices"), {"status": "issued"}).content.decode()
    assert html.count('data-testid="invoice-row"') == 2
    html = client.get(reverse("finance:invoices"), {"number": DIGITAL_2}).content.decode()
    assert html.count('data-testid="invoice-row"') == 1
    assert client.get(reverse("finance:invoices"), {"issued_from": "junk"}).status_code == 200


def test_a_bad_import_changes_nothing_and_lists_every_problem(client, users, contract):  # noqa: F811
    client.force_login(users["finance"])
    response = client.post(reverse("finance:invoice_import"), {"file": export([line(contract, DIGITAL, 1130),
                                                                                line(contract, "1", 10)])})
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="import-errors"' in html and "Row 3" in html
    assert Invoice.objects.count() == 0
    assert client.post(reverse("finance:invoice_import"), {}).status_code == 400
    junk = SimpleUploadedFile("x.xlsx", b"junk")
    assert client.post(reverse("finance:invoice_import"), {"file": junk}).status_code == 400


def test_sales_see_their_invoices_and_cannot_import(client, users, contract):  # noqa: F811
    services.invoice_request(actor=users["sales"], contract=contract, data={
        "total": "100.00", "tax_rate": "13", "kind": "digital_general"})
    client.force_login(users["sales_b"])
    html = client.get(reverse("finance:invoices")).content.decode()
    assert 'data-testid="invoice-row"' not in html and 'data-testid="invoice-import"' not in html
    client.force_login(users["sales"])
    html = client.get(reverse("finance:invoices")).content.decode()
    assert html.count('data-testid="invoice-row"') == 1
    assert client.post(reverse("finance:invoice_import"), {"file": export([line(contract)])}).status_code == 403
