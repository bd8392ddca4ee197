"""Amendments on the contract page: raised in a dialog (only what differs is kept), submitted for
approval, signed, cancelled; the versions listed and compared."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from qiyue.contracts.models import Amendment
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.workflow.tests.factories import approve_through

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed(users):
    contract = make_contract(users["sales"], amount=Decimal("5000.00"), title="变更测试合同")
    contract_transition(actor=users["sales"], contract=contract, name="submit")
    approve_through(contract)
    return contract_transition(actor=users["sales"], contract=contract, name="sign", signing_method="wet_ink",
                               signing_date=datetime.date(2026, 1, 10))


def _form(contract, **overrides):
    data = {"amend-reason": "客户追加两台设备", "amend-amount": "8000.00", "amend-tax_rate": str(contract.tax_rate),
            "amend-effective_date": contract.effective_date.isoformat(),
            "amend-expiry_date": contract.expiry_date.isoformat(), "amend-notice_period_days": "0",
            "amend-payment_terms": "验收后 30 日内付清"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_raise_submit_approve_sign_and_compare(client, users, signed):
    client.force_login(users["sales"])
    page = client.get(reverse("contracts:detail", args=[signed.pk])).content.decode()
    assert 'data-testid="open-amendment"' in page
    answer = client.post(reverse("contracts:amendment_create", args=[signed.pk]), _form(signed), **HX)
    assert answer.status_code == 200 and 'data-testid="amendment"' in answer.content.decode()
    amendment = Amendment.objects.get()
    assert amendment.changes == {"amount": "8000.00"} and amendment.status == "draft"
    client.post(reverse("contracts:amendment_submit", args=[amendment.pk]), **HX)
    approve_through(signed)
    amendment.refresh_from_db()
    assert amendment.status == "approved"
    done = client.post(reverse("contracts:amendment_sign", args=[amendment.pk]),
                       {f"sign{amendment.pk}-signed_on": "2026-03-01"}, **HX).content.decode()
    assert 'data-testid="contract-versions"' in done and 'data-testid="compare-versions"' in done
    signed.refresh_from_db()
    assert signed.amount == Decimal("8000.00")
    diff = client.get(reverse("contracts:version_compare", args=[signed.pk]) + "?a=1&b=2").content.decode()
    assert diff.count('data-testid="changed-row"') == 2 and "5000.00" in diff and "8000.00" in diff
    assert client.get(reverse("contracts:version_compare", args=[signed.pk]) + "?a=1&b=9").status_code == 404
    assert client.get(reverse("contracts:version_compare", args=[signed.pk]) + "?a=x&b=2").status_code == 404


@pytest.mark.parametrize("overrides", [
    {"amend-reason": ""}, {"amend-amount": "abc"}, {"amend-amount": "-1"}, {"amend-reason": "x" * 5000},
    {"amend-expiry_date": "2020-01-01"}, {"amend-amount": None},
])
def test_a_bad_amendment_reopens_its_dialog_and_saves_nothing(client, users, signed, overrides):
    client.force_login(users["sales"])
    body = client.post(reverse("contracts:amendment_create", args=[signed.pk]), _form(signed, **overrides),
                       **HX).content.decode()
    assert 'id="dialog-amendment"' in body and 'data-open' in body[body.index('id="dialog-amendment"'):][:300]
    assert not Amendment.objects.exists()


def test_who_may_amend(client, users, signed):
    for name, status in (("legal", 403), ("sales_b", 404), ("auditor", 403)):
        client.force_login(users[name])
        assert client.post(reverse("contracts:amendment_create", args=[signed.pk]), _form(signed),
                           **HX).status_code == status, name
    draft = make_contract(users["sales"])
    client.force_login(users["sales"])
    body = client.post(reverse("contracts:amendment_create", args=[draft.pk]), _form(draft), **HX).content.decode()
    assert 'data-testid="status-error"' in body and not Amendment.objects.exists()


def test_cancel_needs_a_reason(client, users, signed):
    client.force_login(users["sales"])
    client.post(reverse("contracts:amendment_create", args=[signed.pk]), _form(signed), **HX)
    amendment = Amendment.objects.get()
    client.post(reverse("contracts:amendment_cancel", args=[amendment.pk]), {"reason": ""}, **HX)
    amendment.refresh_from_db()
    assert amendment.status == "draft"
    client.post(reverse("contracts:amendment_cancel", args=[amendment.pk]), {"reason": "客户放弃"}, **HX)
    amendment.refresh_from_db()
    assert amendment.status == "cancelled"
