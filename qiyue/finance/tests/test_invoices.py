"""Invoices against the real database: requests, issuing, voiding, red-letter invoices, the invoiced
total kept on the contract, invoicing beyond the contract amount, who may do what, and importing the
tax platform's export (a real XLSX and CSV made here), all or nothing."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from qiyue.audit.models import AuditEvent
from qiyue.core.errors import ApplicationError
from qiyue.finance import services, totals
from qiyue.finance.invoice_file import kind_of, read_rows
from qiyue.finance.models import Invoice
from qiyue.finance.tests.factories import signed_contract

pytestmark = pytest.mark.django_db
D = Decimal
day = datetime.date
DIGITAL = "26442000000012345678"
DIGITAL_2 = "26442000000012345679"
DIGITAL_RED = "26442000000098765432"
TAXPAYER = "91440300MA5DABCD1X"


def error_of(call, *args, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="113000.00")
    customer = contract.customer
    customer.taxpayer_id = TAXPAYER
    customer.invoice_title = "深圳市前海测试科技有限公司"
    customer.save()
    contract.refresh_from_db()
    return contract


def request(users, contract, total="56500.00", who="sales", **data):
    return services.invoice_request(actor=users[who], contract=contract,
                                    data={"kind": "digital_special", "total": total, "tax_rate": "13", **data})


def issue(users, invoice, number=DIGITAL, **data):
    return services.invoice_issue(actor=users["finance"], invoice=invoice,
                                  data={"number": number, "issued_on": day(2026, 3, 1), **data})


def invoiced(contract):
    contract.refresh_from_db()
    return contract.invoiced_amount


# --- requests and issuing -----------------------------------------------------------------------------

def test_sales_request_an_invoice_with_the_customers_invoicing_details_and_the_tax_split(users, contract):
    invoice = request(users, contract)
    assert invoice.status == "requested"
    assert (invoice.amount_excluding_tax, invoice.tax_amount, invoice.total) == (D("50000.00"), D("6500.00"),
                                                                                  D("56500.00"))
    assert invoice.buyer_name == "深圳市前海测试科技有限公司" and invoice.buyer_taxpayer_id == TAXPAYER
    assert invoice.requested_by == users["sales"]
    assert invoiced(contract) == 0  # a request is not an invoice
    event = AuditEvent.objects.filter(action="invoice.requested").get()
    assert event.changes["total"] == "56,500.00 CNY"


def test_finance_records_the_issued_invoice_and_the_contract_keeps_its_invoiced_total(users, contract):
    invoice = issue(users, request(users, contract))
    assert invoice.status == "issued" and invoice.number == DIGITAL and invoice.issued_by == users["finance"]
    assert invoiced(contract) == D("56500.00")
    assert list(totals.differences([contract.pk])) == []
    event = AuditEvent.objects.filter(action="invoice.issued").get()
    assert event.changes["number"] == DIGITAL and event.changes["status"] == ["requested", "issued"]


def test_the_issued_invoice_can_differ_from_the_request(users, contract):
    invoice = issue(users, request(users, contract), amount_excluding_tax="40000.00", tax_amount="5200.00",
                    tax_rate="13")
    assert (invoice.total, invoice.tax_amount) == (D("45200.00"), D("5200.00"))
    assert invoiced(contract) == D("45200.00")


@pytest.mark.parametrize(("data", "field"), [
    ({"number": "1234"}, "number"),  # a digital number has 20 digits
    ({"number": DIGITAL, "code": "1234567890"}, "code"),  # and no code
    ({"number": DIGITAL, "kind": "paper_special", "code": "123"}, "code"),
    ({"number": "1234567", "kind": "paper_general", "code": "1234567890"}, "number"),
    ({"number": DIGITAL, "issued_on": day(2099, 1, 1)}, "issued_on"),
    ({"number": DIGITAL, "issued_on": "yesterday"}, "issued_on"),
    ({"number": DIGITAL, "amount_excluding_tax": "50000", "tax_amount": "900"}, "tax_amount"),
    ({"number": DIGITAL, "amount_excluding_tax": "50000", "tax_amount": "6500", "total": "1"}, "total"),
    ({"number": DIGITAL, "tax_rate": "130"}, "tax_rate"),
    ({"number": DIGITAL, "tax_rate": "abc"}, "tax_rate"),
    ({"number": DIGITAL, "kind": "nonsense"}, "kind"),
    ({"number": DIGITAL, "total": "-5"}, "total"),
    ({"number": DIGITAL, "total": "1e400"}, "total"),
    ({"number": "9" * 200}, "number"),
])
def test_bad_issue_input_is_refused_by_field_and_changes_nothing(users, contract, data, field):
    invoice = request(users, contract)
    error = error_of(services.invoice_issue, actor=users["finance"], invoice=invoice,
                     data={"issued_on": day(2026, 3, 1), **data})
    assert field in error.fields, error.fields
    invoice.refresh_from_db()
    assert invoice.status == "requested" and invoice.number == "" and invoiced(contract) == 0


def test_an_invoice_number_is_recorded_once(users, contract):
    issue(users, request(users, contract, total="10000.00"))
    error = error_of(issue, users, request(users, contract, total="10000.00"))
    assert error.code == "invoice_number_taken"


def test_a_special_invoice_needs_the_buyers_taxpayer_id(users, contract):
    customer = contract.customer
    customer.taxpayer_id = ""
    customer.save()
    contract.refresh_from_db()
    assert "buyer_taxpayer_id" in error_of(request, users, contract).fields
    general = request(users, contract, kind="digital_general")
    assert general.buyer_taxpayer_id == ""
    assert request(users, contract, buyer_taxpayer_id=TAXPAYER.lower()).buyer_taxpayer_id == TAXPAYER


def test_paper_invoices_have_a_code_and_an_eight_digit_number(users, contract):
    invoice = services.invoice_record(actor=users["finance"], contract=contract, data={
        "kind": "paper_general", "code": "044031900111", "number": "00123456", "issued_on": day(2026, 2, 1),
        "amount_excluding_tax": "1000.00", "tax_rate": "3", "tax_amount": "30.00"})
    assert (invoice.code, invoice.number, invoice.total) == ("044031900111", "00123456", D("1030.00"))
    # The same number with another code is another invoice.
    services.invoice_record(actor=users["finance"], contract=contract, data={
        "kind": "paper_general", "code": "044031900112", "number": "00123456", "issued_on": day(2026, 2, 1),
        "total": "1030.00", "tax_rate": "3"})
    assert invoiced(contract) == D("2060.00")


def test_a_zero_rated_invoice_has_no_tax(users, contract):
    invoice = services.invoice_record(actor=users["finance"], contract=contract, data={
        "kind": "digital_general", "number": DIGITAL, "issued_on": day(2026, 2, 1),
        "amount_excluding_tax": "500.00", "tax_amount": "0", "tax_rate": "0"})
    assert (invoice.tax_amount, invoice.total) == (D("0.00"), D("500.00"))


# --- beyond the contract amount -----------------------------------------------------------------------

def test_invoicing_beyond_the_contract_needs_finance_and_a_reason(users, contract):
    issue(users, request(users, contract, total="100000.00"))
    # Sales cannot ask for more than is left (requests pending count too).
    error = error_of(request, users, contract, total="13000.01")
    assert error.code == "invoice_exceeds_contract" and "total" in error.fields
    request(users, contract, total="13000.00")
    assert error_of(request, users, contract, total="1.00").code == "invoice_exceeds_contract"
    # Finance can, with a reason.
    error = error_of(request, users, contract, total="5000.00", who="finance")
    assert "over_contract_reason" in error.fields
    extra = request(users, contract, total="5000.00", who="finance", over_contract_reason="Agreed extra work")
    assert extra.over_contract_reason == "Agreed extra work"
    event = AuditEvent.objects.filter(action="invoice.requested", target_id=str(extra.pk)).get()
    assert event.changes["over_contract_reason"] == "Agreed extra work"


def test_issuing_beyond_the_contract_needs_a_reason_too(users, contract):
    first = request(users, contract, total="113000.00")
    issue(users, first)
    invoice = services.invoice_record  # a typed-in invoice without a request
    error = error_of(invoice, actor=users["finance"], contract=contract, data={
        "number": DIGITAL_2, "issued_on": day(2026, 3, 2), "total": "100.00", "tax_rate": "13"})
    assert error.code == "invoice_exceeds_contract" and "over_contract_reason" in error.fields
    invoice(actor=users["finance"], contract=contract, data={
        "number": DIGITAL_2, "issued_on": day(2026, 3, 2), "total": "100.00", "tax_rate": "13",
        "over_contract_reason": "Penalty interest invoiced"})
    assert invoiced(contract) == D("113100.00")


# --- withdrawing, voiding, red-letter ------------------------------------------------------------------

def test_a_request_is_withdrawn_by_who_asked_or_finance_with_a_reason(users, contract):
    invoice = request(users, contract)
    assert error_of(services.invoice_withdraw, actor=users["sales"], invoice=invoice, reason="").code == \
        "reason_required"
    assert error_of(services.invoice_withdraw, actor=users["sales2"], invoice=invoice,
                    reason="x").code == "permission_denied"
    services.invoice_withdraw(actor=users["sales"], invoice=invoice, reason="Customer changed the title")
    invoice.refresh_from_db()
    assert invoice.status == "withdrawn" and invoice.status_reason == "Customer changed the title"
    assert error_of(issue, users, invoice).code == "invoice_state"


def test_a_paper_invoice_is_voided_a_digital_one_only_red_lettered(users, contract):
    paper = services.invoice_record(actor=users["finance"], contract=contract, data={
        "kind": "paper_special", "code": "4403191130", "number": "01234567", "issued_on": day(2026, 2, 1),
        "total": "11300.00", "tax_rate": "13"})
    digital = issue(users, request(users, contract, total="22600.00"))
    assert invoiced(contract) == D("33900.00")
    assert error_of(services.invoice_void, actor=users["finance"], invoice=digital,
                    reason="wrong").code == "invoice_cannot_void"
    assert error_of(services.invoice_void, actor=users["sales"], invoice=paper,
                    reason="wrong").code == "permission_denied"
    services.invoice_void(actor=users["finance"], invoice=paper, reason="Wrong buyer name")
    assert invoiced(contract) == D("22600.00")
    assert error_of(services.invoice_void, actor=users["finance"], invoice=paper,
                    reason="again").code == "invoice_state"
    assert list(totals.differences([contract.pk])) == []


def test_red_letter_invoices_reverse_all_or_part_of_an_issued_one(users, contract):
    blue = issue(users, request(users, contract, total="56500.00"))
    red_data = {"number": DIGITAL_RED, "issued_on": day(2026, 3, 5), "red_reason": "allowance",
                "red_confirmation": "44030026030500001", "reason": "Discount for late delivery", "total": "11300.00"}
    for bad, field in (({"red_reason": ""}, "red_reason"), ({"total": "60000.00"}, "total"),
                       ({"issued_on": day(2026, 2, 1)}, "issued_on"), ({"number": DIGITAL}, "number")):
        error = error_of(services.invoice_red_letter, actor=users["finance"], invoice=blue, data={**red_data, **bad})
        assert field in error.fields, (bad, error.fields)
    assert error_of(services.invoice_red_letter, actor=users["sales"], invoice=blue,
                    data=red_data).code == "permission_denied"
    red = services.invoice_red_letter(actor=users["finance"], invoice=blue, data=red_data)
    assert red.reverses == blue and red.is_red and red.signed_total == D("-11300.00")
    assert (red.amount_excluding_tax, red.tax_amount) == (D("10000.00"), D("1300.00"))
    assert invoiced(contract) == D("45200.00")
    assert services.red_letter_room(blue) == D("45200.00")
    # Without an amount, the rest is reversed; then nothing is left.
    rest = services.invoice_red_letter(actor=users["finance"], invoice=blue, data={
        "number": "26442000000098765433", "issued_on": day(2026, 3, 6), "red_reason": "error"})
    assert rest.total == D("45200.00") and invoiced(contract) == 0
    assert error_of(services.invoice_red_letter, actor=users["finance"], invoice=blue, data={
        **red_data, "number": "26442000000098765434"}).code == "red_letter_exceeds"
    # A red-letter invoice is not reversed again.
    assert error_of(services.invoice_red_letter, actor=users["finance"], invoice=red, data={
        **red_data, "number": "26442000000098765435"}).code == "invoice_state"
    event = AuditEvent.objects.filter(action="invoice.red_letter", target_id=str(red.pk)).get()
    assert event.changes["reverses"] == DIGITAL and event.changes["reason"] == "Discount for late delivery"
    assert list(totals.differences([contract.pk])) == []


def test_a_contract_that_owes_nothing_is_not_invoiced(users):
    from qiyue.contracts.tests.factories import make_contract

    draft = make_contract(users["sales"], amount=D("1000.00"))
    assert error_of(services.invoice_request, actor=users["sales"], contract=draft, data={
        "total": "100", "tax_rate": "13", "kind": "digital_general"}).code == "permission_denied"
    assert error_of(services.invoice_record, actor=users["finance"], contract=draft, data={
        "number": DIGITAL, "issued_on": day(2026, 3, 1), "total": "100", "tax_rate": "13"}).code in (
        "invoice_state", "permission_denied")


def test_another_teams_sales_cannot_request(users, contract):
    assert error_of(request, users, contract, who="sales_b").code in ("permission_denied", "not_found")
    assert error_of(request, users, contract, who="legal").code == "permission_denied"


def test_a_stale_version_is_refused(users, contract):
    invoice = request(users, contract)
    assert error_of(services.invoice_issue, actor=users["finance"], invoice=invoice, expected_version=7,
                    data={"number": DIGITAL, "issued_on": day(2026, 3, 1)}).code == "stale_version"


# --- the platform's export ------------------------------------------------------------------------------

HEADER = ["序号", "发票代码", "发票号码", "数电票号码", "销方识别号", "销方名称", "购方识别号", "购买方名称", "开票日期",
          "金额", "税额", "价税合计", "税率", "发票来源", "发票票种", "发票状态", "是否正数发票", "备注"]


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["发票查询导出"])  # the platform's title row above the header
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def line(contract, number=DIGITAL, total=11300, *, status="正常", positive="是", kind="数电票（增值税专用发票）",
         note=None, code=""):
    sign = 1 if positive == "是" else -1
    paper = bool(code)  # a paper invoice: code and number; a digital one: its 数电票号码
    return ["1", code, number if paper else "", "" if paper else number, "914403001234567890", "我方公司", TAXPAYER, "深圳市前海测试科技有限公司",
            datetime.datetime(2026, 3, 10, 9, 30), sign * round(total / 1.13, 2), sign * round(total - total / 1.13, 2),
            sign * total, "13%", "电子发票服务平台", kind, status, positive,
            note if note is not None else f"合同编号：{contract.number}"]


def test_an_export_is_read_by_its_headers(users, contract):
    rows = read_rows(xlsx([line(contract), line(contract, DIGITAL_RED, positive="否",
                                                note=f"被红冲蓝字数电票号码：{DIGITAL}")]), "export.xlsx")
    first, red = rows
    assert first.line == 3 and first.problems == []
    assert first.values["number"] == DIGITAL and first.values["total"] == D("11300")
    assert first.values["kind"] == "digital_special" and first.values["issued_on"] == day(2026, 3, 10)
    assert first.values["tax_rate"] == D("13.00") and first.values["red"] is False
    assert red.values["red"] is True and red.values["original"] == DIGITAL and red.values["total"] == D("11300")
    assert kind_of("增值税普通发票") == "paper_general" and kind_of("电子发票（普通发票）") == "digital_general"


def test_importing_records_issues_requests_reverses_and_voids_and_a_second_import_changes_nothing(users, contract):
    pending = request(users, contract, total="22600.00")
    paper = services.invoice_record(actor=users["finance"], contract=contract, data={
        "kind": "paper_general", "code": "044031900111", "number": "00123456", "issued_on": day(2026, 2, 1),
        "total": "1030.00", "tax_rate": "3", "buyer_taxpayer_id": TAXPAYER})
    content = xlsx([
        line(contract, DIGITAL, 11300),  # new: recorded
        line(contract, DIGITAL_2, 22600),  # the pending request's total: issues it
        line(contract, DIGITAL_RED, 11300, positive="否", note=f"被红冲蓝字数电票号码：{DIGITAL}"),
        line(contract, "00123456", 1030, status="作废", kind="增值税普通发票", code="044031900111"),
    ])
    result = services.invoice_import(actor=users["finance"], content=content, filename="发票.xlsx")
    assert (result.recorded, result.requests_issued, result.red_letters, result.voided) == (1, 1, 1, 1)
    pending.refresh_from_db()
    paper.refresh_from_db()
    assert pending.status == "issued" and pending.number == DIGITAL_2 and pending.source == "imported"
    assert paper.status == "voided"
    assert Invoice.objects.get(number=DIGITAL_RED).reverses.number == DIGITAL
    assert invoiced(contract) == D("22600.00")
    again = services.invoice_import(actor=users["finance"], content=content, filename="发票.xlsx")
    assert again.changed == 0 and again.already_recorded == 4
    assert list(totals.differences([contract.pk])) == []


def test_an_import_with_a_bad_row_changes_nothing_and_names_every_problem(users, contract):
    content = xlsx([
        line(contract, DIGITAL, 11300),
        line(contract, "123", 11300),  # not a digital number
        line(contract, DIGITAL_2, 11300, note="no contract here"),
    ])
    error = error_of(services.invoice_import, actor=users["finance"], content=content, filename="x.xlsx")
    assert error.code == "invalid"
    problems = error.fields["rows"]
    assert any(p.startswith("Row 4:") for p in problems) and any(p.startswith("Row 5:") for p in problems)
    assert not any(p.startswith("Row 3:") for p in problems)
    assert Invoice.objects.count() == 0 and invoiced(contract) == 0


def test_an_import_needs_finance_and_a_readable_file(users, contract):
    content = xlsx([line(contract)])
    assert error_of(services.invoice_import, actor=users["sales"], content=content,
                    filename="x.xlsx").code == "permission_denied"
    for bad, name in ((b"not a workbook", "x.xlsx"), (b"PK\x03\x04broken", "x.xlsx"), (b"\x00" * 10, "x.pdf"),
                      (b"a,b\n1,2\n", "x.csv"), (b"x" * (5 * 1024 * 1024 + 1), "x.csv")):
        error = error_of(services.invoice_import, actor=users["finance"], content=bad, filename=name)
        assert "file" in error.fields
    assert Invoice.objects.count() == 0


def test_an_import_reads_a_csv_in_gb18030(users, contract):
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    row = line(contract)
    row[8] = "2026-03-10 09:30:00"
    writer.writerow(row)
    result = services.invoice_import(actor=users["finance"], content=out.getvalue().encode("gb18030"),
                                     filename="export.csv")
    assert result.recorded == 1 and invoiced(contract) == D("11300.00")


def test_an_import_refuses_a_buyer_that_is_not_the_customer(users, contract):
    row = line(contract)
    row[6] = "91110000100000000X"
    error = error_of(services.invoice_import, actor=users["finance"], content=xlsx([row]), filename="x.xlsx")
    assert any("taxpayer" in p.lower() for p in error.fields["rows"])



def test_amounts_whose_floating_point_sum_differs_are_stored(users, contract):
    # SQLite adds decimals as floating point: 0.95 + 0.12 is not 1.07 there. The check allows half a cent.
    for index, total in enumerate(("1.07", "1.14", "1.28", "99999.99")):
        invoice = services.invoice_record(actor=users["finance"], contract=contract, data={
            "number": f"2644200000001111{index:04d}", "issued_on": day(2026, 3, 1), "total": total, "tax_rate": "13"})
        assert invoice.amount_excluding_tax + invoice.tax_amount == invoice.total
