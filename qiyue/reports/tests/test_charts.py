"""The dashboard's charts: each figure is what the contracts list shows when its bar is clicked
(the link's filter counts the same contracts), amounts are kept apart per currency, and a user sees
only the contracts they may see."""

import datetime
import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 6)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


def _signed(owner, admin, *, on, expires, amount="1000.00", currency="CNY", activate=False):
    contract = make_contract(owner, amount=Decimal(amount), currency=currency, effective_date=on,
                             expiry_date=expires)
    for name in ("submit", "approve"):
        contract = contract_transition(actor=admin, contract=contract, name=name, via_workflow=name == "approve")
    contract = contract_transition(actor=admin, contract=contract, name="sign", signing_method="wet_ink",
                                   signing_date=on)
    if activate:
        contract = contract_transition(actor=admin, contract=contract, name="activate")
    return contract


def _charts(client):
    html = client.get(reverse("dashboard")).content.decode()
    data = json.loads(unescape(re.search(r'<script id="dashboard-charts" type="application/json">(.*?)</script>',
                                         html, re.S).group(1)))
    # Finance's receivables card carries its own (qiyue.finance.dashboard).
    owed = re.search(r'<script id="receivable-charts" type="application/json">(.*?)</script>', html, re.S)
    if owed:
        data.update(json.loads(unescape(owed.group(1))))
    return html, data


def _list_count(client, url) -> int:
    return client.get(url).context["page"].paginator.count


def test_each_bar_links_to_the_contracts_it_counts(client, users):
    admin = users["admin"]
    _signed(users["sales"], admin, on=datetime.date(2026, 3, 10), expires=datetime.date(2027, 2, 28))
    _signed(users["sales"], admin, on=datetime.date(2026, 3, 31), expires=datetime.date(2027, 2, 1),
            amount="250.50", activate=True)
    _signed(users["sales"], admin, on=datetime.date(2026, 11, 2), expires=datetime.date(2027, 6, 30),
            amount="99.00", currency="USD")
    _signed(users["sales"], admin, on=datetime.date(2025, 11, 30), expires=datetime.date(2026, 12, 31))  # 13 months ago
    make_contract(users["sales"])  # a draft: neither signed nor expiring
    client.force_login(users["manager"])
    html, data = _charts(client)

    signed = data["signed"]
    assert len(signed["labels"]) == 12 and signed["labels"][0] == "Jan 2026" and signed["labels"][-1] == "Dec 2026"
    assert [s["name"] for s in signed["series"]] == ["CNY", "USD"]  # never one sum of two currencies
    cny, usd = signed["series"]
    assert cny["values"][2] == 1250.5 and cny["counts"][2] == 2 and sum(cny["counts"]) == 2
    assert usd["values"][10] == 99.0 and usd["counts"][10] == 1
    assert _list_count(client, cny["links"][2]) == 2 and _list_count(client, usd["links"][10]) == 1
    assert _list_count(client, cny["links"][10]) == 0

    expiring = data["expiring"]
    assert expiring["labels"][0] == "Dec 2026" and len(expiring["labels"]) == 12
    assert expiring["values"][0] == 1 and expiring["values"][2] == 2 and expiring["values"][6] == 1
    for index in (0, 2, 6):
        assert _list_count(client, expiring["links"][index]) == expiring["values"][index]

    status = dict(zip([re.sub(r"status=", "", link.split("?")[1]) for link in data["status"]["links"]],
                      data["status"]["values"], strict=True))
    assert status["signed"] == 3 and status["active"] == 1 and status["draft"] == 1
    # The tables beside the charts carry the same figures and links, for keyboards and screen readers.
    table = html[html.index('data-testid="table-signed"'):]
    assert cny["links"][2].replace("&", "&amp;") in table and "1,250.50" in table


def test_charts_see_only_what_the_user_may_see(client, users):
    admin = users["admin"]
    _signed(users["sales"], admin, on=datetime.date(2026, 5, 5), expires=datetime.date(2027, 1, 31))
    _signed(users["sales_b"], admin, on=datetime.date(2026, 5, 6), expires=datetime.date(2027, 1, 15),
            amount="7.00")
    client.force_login(users["sales"])
    _html, data = _charts(client)
    assert sum(data["signed"]["series"][0]["counts"]) == 1 and data["signed"]["series"][0]["values"][4] == 1000.0
    assert sum(data["expiring"]["values"]) == 1


def test_empty_states_and_chinese_months(client, users, settings):
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html, data = _charts(client)
    assert 'data-testid="empty-signed"' in html and 'data-testid="empty-expiring"' in html
    assert 'data-chart="signed"' not in html
    assert data["locale"] == "ZH" and data["expiring"]["labels"][0] == "2026年12月"
    assert "每月签订金额" in html and "每月到期合同" in html


def _receivables_total(client, url, currency) -> Decimal:
    response = client.get(url)
    assert response.status_code == 200, url
    return next((t.outstanding for t in response.context["totals"] or [] if t.currency == currency), Decimal("0"))


def test_the_receivables_charts_add_up_and_every_bar_opens_its_installments(client, users):
    from qiyue.finance import services
    from qiyue.finance.tests.factories import plan, signed_contract

    finance, sales = users["finance"], users["sales"]
    day = datetime.date
    first = signed_contract(sales, amount="10000.00")
    plan(finance, first, ("2026-08-01", "2000.00"), ("2026-10-20", "3000.00"), ("2026-12-06", "1000.00"),
         ("2027-02-10", "4000.00"))
    services.payment_record(actor=finance, contract=first, data={"amount": "500.00", "received_on": day(2026, 9, 1)})
    dollars = signed_contract(sales, amount="5000.00", currency="USD")
    plan(finance, dollars, ("2026-11-30", "5000.00"))
    waiting = signed_contract(sales, amount="1000.00")
    milestone = services.obligation_create(actor=sales, contract=waiting, data={"description": "验收"})
    services.payment_plan_save(actor=finance, contract=waiting, expected_version=None, installments=[
        {"amount": "1000.00", "obligation": milestone.pk, "days_after": 10}])
    hidden = signed_contract(users["sales_b"], amount="777.00")
    plan(finance, hidden, ("2026-01-01", "777.00"))

    client.force_login(sales)
    html, data = _charts(client)
    aging, due = data["aging"], data["due"]
    assert [s["name"] for s in aging["series"]] == ["CNY", "USD"]  # the larger first; never added together
    cny = dict(zip(["not_due", "d1_30", "d31_60", "d61_90", "over_90"], aging["series"][0]["values"], strict=True))
    # Due today is not yet due; the undated installment waits for its milestone; the other team's is not here.
    assert cny == {"not_due": 6000.0, "d1_30": 0.0, "d31_60": 3000.0, "d61_90": 0.0, "over_90": 1500.0}
    assert aging["series"][1]["values"] == [0.0, 5000.0, 0.0, 0.0, 0.0]
    assert due["labels"][0] == "Overdue" and due["labels"][1] == "Dec 2026" and due["labels"][-2:] == [
        "Later", "No due date yet"]
    assert due["series"][0]["values"] == [4500.0, 1000.0, 0.0, 4000.0, 0.0, 0.0, 0.0, 0.0, 1000.0]
    assert 'href="/finance/receivables/?currency=CNY" data-testid="receivable-outstanding-CNY">10,500.00' in html
    assert 'data-testid="receivable-overdue-CNY"' in html and "4,500.00" in html
    for chart in (aging, due):
        for series in chart["series"]:
            for value, link in zip(series["values"], series["links"], strict=True):
                assert _receivables_total(client, link, series["name"]) == Decimal(str(value)), link

    client.force_login(finance)  # sees every team's: the other team's 777.00, over 90 days overdue
    _html, data = _charts(client)
    assert data["aging"]["series"][0]["values"][4] == 2277.0


def test_no_receivables_show_an_empty_state(client, users):
    client.force_login(users["sales"])
    html, data = _charts(client)
    assert 'data-testid="empty-receivables"' in html and "aging" not in data
