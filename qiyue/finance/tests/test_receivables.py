"""The receivables page: the installments still owed on what the user sees, as of today or a past day
(payments after it left out), filtered by age, customer, owner, currency and contract number, the totals
per currency and aging bucket, the audited Excel export (a real XLSX read back) and finance's bulk
recording of payments."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from qiyue.audit.models import AuditEvent
from qiyue.finance import services
from qiyue.finance.models import Payment
from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db
D = Decimal
day = datetime.date


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    plan(users["finance"], contract, (day(2026, 2, 1), "30000.00"), (day(2026, 4, 1), "50000.00"),
         (day(2099, 6, 1), "20000.00"))
    return contract


def get(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("finance:receivables"), params)
    return response, response.content.decode()


def test_the_page_lists_what_is_owed_with_totals_and_filters(client, users, contract):
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "10000.00", "received_on": day(2026, 2, 5)})
    response, html = get(client, users["sales"])
    assert response.status_code == 200 and html.count('data-testid="receivable"') == 3
    assert 'data-testid="receivable-total-CNY"' in html and "90,000.00" in html  # outstanding
    assert 'data-testid="receivable-select"' not in html  # sales do not record payments
    _, html = get(client, users["sales"], bucket="not_due")
    assert html.count('data-testid="receivable"') == 1
    _, html = get(client, users["sales"], bucket="over_90", contract=contract.number[:6])
    assert html.count('data-testid="receivable"') == 2
    _, html = get(client, users["sales"], customer=contract.customer_id + 1000)
    assert 'data-testid="empty-receivables"' in html
    _, html = get(client, users["sales_b"])
    assert 'data-testid="empty-receivables"' in html  # another team's contract is not theirs
    # Due between two days (the dashboard's months link here), and owed without a due date yet.
    _, html = get(client, users["sales"], due_after="2026-03-01", due_before="2026-04-30")
    assert html.count('data-testid="receivable"') == 1 and "50,000.00" in html
    _, html = get(client, users["sales"], due_after="2026-03-01")
    assert html.count('data-testid="receivable"') == 2
    _, html = get(client, users["sales"], bucket="undated")
    assert 'data-testid="empty-receivables"' in html


def test_as_of_a_past_day_payments_after_it_are_left_out(client, users, contract):
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "30000.00", "received_on": day(2026, 3, 10)})
    _, html = get(client, users["finance"], as_of="2026-03-01")
    # On 1 March the first installment (due 1 February) was 28 days overdue and unpaid.
    assert 'data-bucket="d1_30"' in html and html.count('data-testid="receivable"') == 3
    assert 'data-testid="receivable-select"' not in html  # payments are recorded as of today only
    _, html = get(client, users["finance"])
    assert html.count('data-testid="receivable"') == 2


@pytest.mark.parametrize("params", [{"as_of": "2099-01-01"}, {"as_of": "junk"}, {"currency": "XYZ"},
                                    {"customer": "abc"}, {"owner": "-1"}, {"bucket": "ancient"},
                                    {"contract": "x" * 65}, {"due_after": "2026-13-01"}, {"due_before": "x" * 5000},
                                    {"due_after": "2026-05-01", "due_before": "2026-04-30"}])
def test_bad_filters_say_why_and_show_nothing(client, users, contract, params):
    response, html = get(client, users["finance"], **params)
    assert response.status_code == 200 and 'data-testid="receivable-filter-errors"' in html
    assert 'data-testid="receivable"' not in html


def test_the_excel_export_is_a_real_workbook_and_audited(client, users, contract):
    client.force_login(users["finance"])
    response = client.get(reverse("finance:receivables_export"), {"bucket": "overdue"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][0] == contract.number and rows[1][10] == 30000
    assert AuditEvent.objects.filter(action="receivables.exported", actor_id=users["finance"].pk).exists()


def test_finance_records_selected_installments_as_paid(client, users, contract):
    _, html = get(client, users["finance"])
    assert 'data-testid="receivable-select"' in html
    ids = [str(i.pk) for i in contract.installments.order_by("position")[:2]]
    response = client.post(reverse("finance:receivables_pay"), {
        "installment": ids, "received_on": "2026-04-10", "method": "bank_transfer", "back": "bucket=overdue"})
    assert response.status_code == 302 and response["Location"].endswith("?bucket=overdue")
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [D("30000.00"), D("50000.00")]
    contract.refresh_from_db()
    assert contract.outstanding_amount == D("20000.00")
    # The same form sent again pays nothing twice.
    client.post(reverse("finance:receivables_pay"), {"installment": ids, "received_on": "2026-04-10"})
    assert Payment.objects.count() == 2
    client.force_login(users["sales"])
    assert client.post(reverse("finance:receivables_pay"), {"installment": ids}).status_code == 403
    client.force_login(users["finance"])
    assert client.post(reverse("finance:receivables_pay"), {"installment": ["x"]}).status_code == 302
    assert client.post(reverse("finance:receivables_pay"), {"installment": [str(i) for i in range(1, 200)]}
                       ).status_code == 302
    assert Payment.objects.count() == 2


def test_totals_in_several_currencies_get_a_cny_equivalent_only_through_the_rates(client, users, contract):
    from qiyue.workflow.services import exchange_rate_save

    usd = signed_contract(users["sales"], amount="1000.00", currency="USD")
    plan(users["finance"], usd, (day(2026, 2, 1), "1000.00"))
    _, html = get(client, users["finance"])
    assert 'data-testid="receivable-total-USD"' in html and "USD" in html
    assert 'data-testid="receivable-cny"' in html and "USD" in html.split('data-testid="receivable-cny"')[1][:400]
    exchange_rate_save(actor=users["admin"], data={"currency": "USD", "rate": "7.10", "valid_from": day(2026, 1, 1)})
    _, html = get(client, users["finance"])
    part = html.split('data-testid="receivable-cny"')[1][:400]
    assert "107,100.00" in part  # 100,000 CNY + 1,000 USD × 7.10


def test_todays_totals_come_from_the_maintained_receivables_and_equal_the_rows(client, users, contract,
                                                                              monkeypatch):
    from qiyue.finance import receivables

    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "10000.00", "received_on": day(2026, 2, 5)})
    waiting = signed_contract(users["sales"], amount="3000.00", currency="USD")
    milestone = services.obligation_create(actor=users["sales"], contract=waiting, data={"description": "验收"})
    services.payment_plan_save(actor=users["finance"], contract=waiting, expected_version=None, installments=[
        {"amount": "1000.00", "due_date": "2026-03-01"},
        {"amount": "2000.00", "obligation": milestone.pk, "days_after": 5}])
    today = timezone.localdate()
    for params in ({}, {"bucket": "over_90"}, {"bucket": "overdue", "currency": "CNY"}, {"bucket": "undated"},
                   {"owner": users["sales"].pk}, {"due_after": day(2026, 3, 1), "due_before": day(2026, 4, 30)},
                   {"bucket": "not_due"}, {"currency": "USD"}, {"owner": users["sales_b"].pk}):
        for user in (users["finance"], users["sales"], users["sales_b"]):
            exact = receivables.totals(receivables.receivable_rows(user=user, as_of=today, **params), today, today)
            kept = receivables.stat_totals(user=user, today=today, **params)
            assert [(t.currency, t.outstanding, t.overdue, t.aging) for t in kept] == [
                (t.currency, t.outstanding, t.overdue, t.aging) for t in exact], (params, user)
    response, html = get(client, users["finance"], bucket="over_90")
    assert [t.outstanding for t in response.context["totals"]] == [D("70000.00"), D("1000.00")]
    # Filters the maintained totals do not keep (a customer, a contract, as of a past day): added up row by
    # row, up to a limit; beyond it, the page asks to narrow the filter.
    monkeypatch.setattr(receivables, "TOTALS_LIMIT", 1)
    _, html = get(client, users["finance"], customer=contract.customer_id)
    assert 'data-testid="totals-too-many"' in html
    _, html = get(client, users["finance"], as_of="2026-03-01")
    assert 'data-testid="totals-too-many"' in html
    _, html = get(client, users["finance"])
    assert 'data-testid="totals-too-many"' not in html and "90,000.00" in html
