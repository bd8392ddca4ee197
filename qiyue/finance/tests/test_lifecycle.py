"""How a contract ends and continues, with its money: termination keeps what is owed as claims or
cancels it; renewal makes a linked successor draft; completion is proposed when all is done and paid."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from qiyue.contracts import services as contract_services
from qiyue.contracts.models import Contract, Termination
from qiyue.core.errors import ApplicationError
from qiyue.finance import services, totals
from qiyue.finance.models import Installment, Obligation
from qiyue.finance.tests.factories import signed_contract

pytestmark = pytest.mark.django_db
day = datetime.date
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def contract(users):
    contract = signed_contract(users["sales"], amount="10000.00")
    services.payment_plan_save(actor=users["finance"], contract=contract, expected_version=None, installments=[
        {"amount": "4000.00", "due_date": "2026-02-01"}, {"amount": "6000.00", "due_date": "2026-06-01"}])
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "4000.00", "received_on": day(2026, 2, 1)})
    services.obligation_create(actor=users["sales"], contract=contract, data={"description": "交付剩余设备"})
    return Contract.objects.get(pk=contract.pk)


def terminate(users, contract, **termination):
    return contract_services.contract_transition(actor=users["legal"], contract=contract, name="terminate",
                                                 reason="客户严重违约", termination=termination)


def test_termination_keeps_what_is_owed_as_claims(users, contract):
    terminate(users, contract, terminated_on=day(2026, 3, 1), category="customer_breach",
              settlement_amount="500.00", agreed_by="仲裁裁决")
    record = Termination.objects.get(contract=contract)
    assert (record.category, record.settlement_amount, record.keep_claims) == ("customer_breach", Decimal("500.00"),
                                                                               True)
    assert [(r.status, r.received) for r in Installment.objects.filter(contract=contract)] == [
        ("open", Decimal("4000.00")), ("claim", Decimal("0.00"))]
    assert Obligation.objects.get().status == "open"
    contract.refresh_from_db()
    assert contract.status == "terminated" and contract.outstanding_amount == Decimal("6000.00")
    assert list(totals.differences([contract.pk])) == []


def test_termination_can_cancel_what_is_owed(users, contract):
    terminate(users, contract, category="mutual", keep_claims=False)
    assert [r.status for r in Installment.objects.filter(contract=contract)] == ["open", "cancelled"]
    assert Obligation.objects.get().status == "cancelled"
    contract.refresh_from_db()
    assert contract.outstanding_amount == 0 and contract.unpaid_since is None


@pytest.mark.parametrize(("termination", "field"), [
    ({"terminated_on": day(2099, 1, 1)}, "terminated_on"), ({"terminated_on": day(2025, 1, 1)}, "terminated_on"),
    ({"terminated_on": "soon"}, "terminated_on"), ({"category": "boredom"}, "category"),
    ({"settlement_amount": "-1"}, "settlement_amount"), ({"settlement_amount": "abc"}, "settlement_amount"),
    ({"settlement_amount": "1.001"}, "settlement_amount"), ({"agreed_by": "x" * 201}, "agreed_by")])
def test_a_bad_termination_changes_nothing(users, contract, termination, field):
    with pytest.raises(ApplicationError) as caught:
        terminate(users, contract, **termination)
    assert field in caught.value.fields
    contract.refresh_from_db()
    assert contract.status == "signed" and not Termination.objects.exists()
    assert Installment.objects.filter(status="open").count() == 2


def test_the_terminate_dialog_records_the_termination(client, users, contract):
    client.force_login(users["legal"])
    response = client.post(reverse("contracts:transition", args=[contract.pk, "terminate"]), {
        "terminate-reason": "双方协商一致解除", "terminate-terminated_on": "2026-03-01",
        "terminate-category": "mutual", "terminate-settlement_amount": "1000", "terminate-agreed_by": "客户总经理",
        "terminate-keep_claims": "cancel", "terminate-version": contract.version}, **HX)
    html = response.content.decode()
    assert 'data-testid="termination"' in html and "客户总经理" in html
    assert Termination.objects.get().keep_claims is False
    assert Installment.objects.filter(status="cancelled").count() == 1


def test_the_terminate_api_takes_the_termination(client, users, contract):
    client.force_login(users["legal"])
    response = client.post(f"/api/v1/contracts/{contract.pk}/terminate/", {
        "reason": "不可抗力", "category": "force_majeure", "settlement_amount": "0.00", "keep_claims": True},
        content_type="application/json")
    assert response.status_code == 200, response.content
    assert Termination.objects.get().category == "force_majeure"
    bad = client.post(f"/api/v1/contracts/{contract.pk}/terminate/", {"reason": "x", "category": "nope"},
                      content_type="application/json")
    assert bad.status_code in (400, 409)


def test_a_renewal_is_a_linked_draft_for_the_next_period(client, users, contract):
    successor = contract_services.contract_renew(actor=users["sales"], contract=contract)
    assert successor.status == "draft" and successor.renewal_of_id == contract.pk
    assert successor.effective_date == contract.expiry_date + datetime.timedelta(days=1)
    assert successor.expiry_date - successor.effective_date == contract.expiry_date - contract.effective_date
    assert (successor.amount, successor.customer_id, successor.title) == (contract.amount, contract.customer_id,
                                                                           contract.title)
    with pytest.raises(ApplicationError) as caught:
        contract_services.contract_renew(actor=users["sales"], contract=contract)
    assert caught.value.code == "already_renewed"
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="renewed-by"' in html and successor.number in html and 'data-testid="renew"' not in html
    html = client.get(reverse("contracts:detail", args=[successor.pk])).content.decode()
    assert 'data-testid="renews"' in html
    # Cancelling the draft renewal allows another.
    contract_services.contract_transition(actor=users["sales"], contract=successor, name="cancel", reason="重新报价")
    again = client.post(reverse("contracts:renew", args=[contract.pk]), **HX)
    assert again.status_code == 204 and again["HX-Redirect"].endswith("/edit/")


def test_who_may_renew(client, users, contract):
    for who, status in (("legal", 403), ("finance", 403), ("sales_b", 404)):
        client.force_login(users[who])
        assert client.post(reverse("contracts:renew", args=[contract.pk])).status_code == status
    from qiyue.contracts.tests.factories import make_contract

    with pytest.raises(ApplicationError) as caught:
        contract_services.contract_renew(actor=users["sales"], contract=make_contract(users["sales"]))
    assert caught.value.code == "illegal_transition"


def test_completion_is_proposed_when_everything_is_done_and_paid(client, users, contract):
    contract = contract_services.contract_transition(actor=users["sales"], contract=contract, name="activate",
                                                     confirm_early=True)
    client.force_login(users["sales"])
    url = reverse("contracts:detail", args=[contract.pk])
    assert 'data-testid="propose-completion"' not in client.get(url).content.decode()
    services.payment_record(actor=users["finance"], contract=contract,
                            data={"amount": "6000.00", "received_on": day(2026, 6, 1)})
    assert 'data-testid="propose-completion"' not in client.get(url).content.decode()  # an obligation is open
    services.obligation_complete(actor=users["sales"], obligation=Obligation.objects.get(), done_on=day(2026, 6, 2))
    html = client.get(url).content.decode()
    assert 'data-testid="propose-completion"' in html
    contract.refresh_from_db()
    response = client.post(reverse("contracts:transition", args=[contract.pk, "complete"]),
                           {"complete-version": contract.version}, **HX)
    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.status == "completed"
