"""The customer 360 timeline is compact: a contract's creation is one line with its number, amount and
currency, its fields folded under "details"; a change of a few fields stays inline."""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from qiyue.audit.models import AuditEvent
from qiyue.audit.rendering import headline, timeline_rows
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def events(html: str) -> list[str]:
    timeline = html[html.index('data-testid="timeline"'):]
    return re.findall(r'<li data-testid="timeline-event">(.*?)</li>', timeline[:timeline.index("</ul>")], re.S)


@pytest.mark.parametrize(("language", "fields"), [("en", "fields"), ("zh-hans", "项")])
def test_a_contracts_creation_is_one_line_with_its_fields_folded(client, users, language, fields):
    customer = make_customer(users["sales"], name="折叠测试客户有限公司")
    numbers = [make_contract(users["sales"], customer=customer, amount=Decimal("49800") + n).number for n in range(5)]
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rows = events(client.get(f"/customers/{customer.pk}/timeline/").content.decode())
    created = [row for row in rows if any(number in row for number in numbers)]
    assert len(created) == 5
    for row in created:
        head = row[:row.index("<time")]
        assert re.search(r"· 49,80[0-4]\.00 CNY", head), head
        assert '<details class="changes small" data-testid="timeline-details">' in row  # folded, not open
        assert re.search(rf"<summary[^>]*>\d+ ?{fields}</summary>", row), row


def test_a_change_of_a_few_fields_stays_inline(users):
    contract = make_contract(users["sales"])
    event = AuditEvent(action="contract.updated", target_type="contracts.contract", target_id=contract.pk,
                       changes={"title": ["a", "b"], "amount": ["1.00", "2.00"]})
    [row] = timeline_rows([event], users["admin"])
    assert not row["folded"] and row["headline"] == "" and len(row["changes"]) == 2


@pytest.mark.parametrize(("changes", "expected"), [
    ({"amount": [None, "49800.00"], "currency": [None, "CNY"]}, "49,800.00 CNY"),
    ({"amount": [None, "1200"], "currency": [None, "JPY"]}, "1,200 JPY"),
    ({"amount": [None, "12.5"]}, ""),
    ({"amount": [None, "not a number"], "currency": [None, "CNY"]}, ""),
    ({}, ""),
])
def test_headline(changes, expected):
    assert headline(AuditEvent(action="contract.created", changes=changes)) == expected
