"""The execution and money tabs of the contract page: what they show, and each action through its
small POST view (HTMX answers with the workspace; a refused action reopens its dialog with the reason
and what was entered, and saves nothing)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from qiyue.finance import services
from qiyue.finance.models import Installment, Obligation, Payment
from qiyue.finance.tests.factories import plan, signed_contract

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
day = datetime.date


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="100000.00")
    plan(users["finance"], contract, (day(2026, 2, 1), "30000.00"), (day(2099, 4, 1), "50000.00"))
    return contract


def page(client, user, contract):
    client.force_login(user)
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_money_tab_shows_the_plan_what_is_overdue_and_the_actions_finance_may_take(client, users, contract):
    html = page(client, users["finance"], contract)
    assert 'data-testid="installments"' in html and 'data-testid="money-overdue"' in html
    assert "30,000.00" in html and "20,000.00" in html  # an installment; what the plan leaves out
    assert 'data-testid="open-payment"' in html and 'data-testid="open-plan"' in html
    assert 'data-testid="aging"' in html
    html = page(client, users["sales"], contract)  # sales read their own contract's money, change none
    assert 'data-testid="installments"' in html
    assert 'data-testid="open-payment"' not in html and 'data-testid="open-plan"' not in html


def test_recording_a_payment_from_the_dialog(client, users, contract):
    client.force_login(users["finance"])
    url = reverse("finance:payment_record", args=[contract.pk])
    data = {"amount": "35,000.00", "received_on": "2026-03-01", "method": "bank_transfer", "payer": "客户",
            "form_key": "f-1"}
    response = client.post(url, data, **HX)
    assert response.status_code == 200 and 'data-testid="status-message"' in response.content.decode()
    # The same form sent twice (a double click) records one payment.
    client.post(url, data, **HX)
    assert Payment.objects.count() == 1
    assert [i.received for i in Installment.objects.filter(contract=contract)] == [Decimal("30000.00"),
                                                                                   Decimal("5000.00")]


def test_a_refused_payment_reopens_its_dialog_with_the_reason_and_what_was_entered(client, users, contract):
    client.force_login(users["finance"])
    response = client.post(reverse("finance:payment_record", args=[contract.pk]),
                           {"amount": "90000.00", "received_on": "2026-03-01", "payer": "某某公司", "form_key": "f-2"},
                           **HX)
    html = response.content.decode()
    assert 'data-testid="payment-error"' in html and 'id="dialog-payment"' in html
    assert 'data-testid="dialog-payment" data-open' in html and 'value="90000.00"' in html
    assert not Payment.objects.exists()


def test_sales_cannot_record_a_payment_and_another_team_cannot_see_the_contract(client, users, contract):
    url = reverse("finance:payment_record", args=[contract.pk])
    client.force_login(users["sales"])
    assert client.post(url, {"amount": "1", "received_on": "2026-03-01"}, **HX).status_code == 403
    client.force_login(users["sales_b"])
    assert client.post(url, {"amount": "1", "received_on": "2026-03-01"}, **HX).status_code == 404
    assert not Payment.objects.exists()


def test_editing_the_plan_in_the_dialog(client, users, contract):
    client.force_login(users["finance"])
    first, second = Installment.objects.filter(contract=contract).order_by("position")
    version = contract.payment_plan.version
    response = client.post(reverse("finance:plan_save", args=[contract.pk]), {
        "version": version,
        "row-id": [first.pk, second.pk, ""], "row-amount": ["30000.00", "40000.00", "30000.00"],
        "row-due_date": ["2026-02-01", "2099-04-01", "2099-06-01"], "row-obligation": ["", "", ""],
        "row-days_after": ["0", "0", "0"], "row-condition": ["", "", "验收后"]}, **HX)
    assert response.status_code == 200
    assert [i.amount for i in Installment.objects.filter(contract=contract)] == [
        Decimal("30000.00"), Decimal("40000.00"), Decimal("30000.00")]
    # The same page again (stale): refused, the editor open again with the rows as entered.
    response = client.post(reverse("finance:plan_save", args=[contract.pk]), {
        "version": version, "row-id": [""], "row-amount": ["1.00"], "row-due_date": ["2099-01-01"],
        "row-obligation": [""], "row-days_after": ["0"], "row-condition": [""]}, **HX)
    html = response.content.decode()
    assert 'data-testid="plan-error"' in html and 'data-testid="dialog-plan" data-open' in html
    assert Installment.objects.filter(contract=contract).count() == 3


def test_obligations_on_the_execution_tab(client, users, contract):
    client.force_login(users["sales"])
    response = client.post(reverse("finance:obligation_create", args=[contract.pk]), {
        "description": "交付设备并安装调试", "party": "ours", "due_date": "2026-02-01", "owner": users["sales"].pk}, **HX)
    assert response.status_code == 200
    obligation = Obligation.objects.get()
    html = page(client, users["sales"], contract)
    assert "交付设备并安装调试" in html and 'data-testid="obligation" data-status="open" data-late' in html
    response = client.post(reverse("finance:obligation_complete", args=[contract.pk, obligation.pk]),
                           {"done_on": "2026-02-03", "version": obligation.version}, **HX)
    assert response.status_code == 200
    obligation.refresh_from_db()
    assert obligation.status == "done" and obligation.done_on == day(2026, 2, 3)
    response = client.post(reverse("finance:obligation_create", args=[contract.pk]), {"description": ""}, **HX)
    assert 'data-testid="obligation-error"' in response.content.decode()
    assert Obligation.objects.count() == 1


def test_a_waive_needs_a_reason_and_an_obligation_of_another_contract_is_not_found(client, users, contract):
    other = signed_contract(users["sales"], amount="1000.00")
    item = services.obligation_create(actor=users["sales"], contract=other, data={"description": "x"})
    client.force_login(users["sales"])
    assert client.post(reverse("finance:obligation_waive", args=[contract.pk, item.pk]), {"reason": "r"},
                       **HX).status_code == 404
    response = client.post(reverse("finance:obligation_waive", args=[other.pk, item.pk]), {"reason": ""}, **HX)
    assert response.status_code == 200 and 'data-testid="dialog-waive" data-open' in response.content.decode()
    item.refresh_from_db()
    assert item.status == "open"


def test_reversing_a_payment_from_the_page(client, users, contract):
    payment, _ = services.payment_record(actor=users["finance"], contract=contract,
                                         data={"amount": "100.00", "received_on": day(2026, 3, 1)})
    client.force_login(users["finance"])
    url = reverse("finance:payment_reverse", args=[contract.pk, payment.pk])
    html = client.post(url, {"reason": ""}, **HX).content.decode()
    assert f'id="dialog-reverse-{payment.pk}"' in html and "data-open" in html
    client.post(url, {"reason": "重复录入"}, **HX)
    payment.refresh_from_db()
    assert payment.status == "reversed"
    assert 'data-testid="payment-reversed"' in page(client, users["finance"], contract)


def test_without_htmx_an_action_goes_back_to_the_tab(client, users, contract):
    client.force_login(users["sales"])
    response = client.post(reverse("finance:obligation_create", args=[contract.pk]), {"description": "验收"})
    assert response.status_code == 302 and response["Location"].endswith("#execution")
