"""The customer 360 page opens with summary cards: its contracts by status (each a link to that list)
and, per currency, the contracted and signed amounts, each labelled; a cancelled contract is counted
by status but never in an amount."""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(users):
    customer = make_customer(users["sales"], name="汇总卡片测试客户有限公司")
    draft = make_contract(users["sales"], customer=customer, amount=Decimal("100.00"))
    active = make_contract(users["sales"], customer=customer, amount=Decimal("200.00"))
    cancelled = make_contract(users["sales"], customer=customer, amount=Decimal("1000.00"))
    dollars = make_contract(users["sales"], customer=customer, amount=Decimal("50.00"), currency="USD")
    Contract.objects.filter(pk=active.pk).update(status="active")
    Contract.objects.filter(pk=cancelled.pk).update(status="cancelled")
    assert draft and dollars
    return customer


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:dd|a|section)>', html, re.S)
    assert match, testid
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


@pytest.mark.parametrize(("language", "contracted", "signed"), [("en", "Contracted", "Signed"),
                                                                ("zh-hans", "合同金额", "已签订")])
def test_summary_cards(client, users, customer, language, contracted, signed):
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    summary = html[html.index('data-testid="customer-summary"'):html.index('data-testid="customer-contracts"')]
    assert text_of(summary, "summary-contracted-CNY") == "300.00"  # draft + active, not the cancelled 1,000
    assert text_of(summary, "summary-signed-CNY") == "200.00"
    assert text_of(summary, "summary-contracted-USD") == "50.00"
    assert contracted in summary and signed in summary
    assert text_of(summary, "summary-status-cancelled").endswith("1")
    assert text_of(summary, "summary-status-draft").endswith("2")
    link = re.search(r'href="([^"]+)" data-testid="summary-status-cancelled"', summary).group(1)
    assert link.replace("&amp;", "&") == f"/contracts/?customer={customer.pk}&status=cancelled"
    # The table's totals leave the cancelled contract out as well.
    totals = html[html.index('data-testid="contract-totals"'):]
    assert "1,300.00" not in totals and "300.00 CNY" in totals


def test_a_customer_without_contracts_has_no_summary(client, users):
    customer = make_customer(users["sales"], name="无合同客户有限公司")
    client.force_login(users["sales"])
    assert 'data-testid="customer-summary"' not in client.get(f"/customers/{customer.pk}/").content.decode()
