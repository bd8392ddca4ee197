import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qiyue.accounts.tests.factories import PASSWORD
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.reports.selectors import dashboard_summary

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _live(owner, days, **data):
    """A contract, signed and active, expiring `days` from today."""
    today = _today()
    contract = make_contract(owner, effective_date=today - datetime.timedelta(days=300),
                             expiry_date=today + datetime.timedelta(days=days), **data)
    for name in ("submit", "approve", "sign", "activate"):
        actor = owner if name not in ("approve",) else owner.__class__.objects.get(username="legal1")
        contract = contract_transition(actor=actor, contract=contract, name=name, via_workflow=name == "approve", signing_method="wet_ink",
                                       signing_date=today)
    return contract


def _in_review(owner):
    contract = make_contract(owner)
    return contract_transition(actor=owner, contract=contract, name="submit")


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_dashboard_shows_counts_links_and_totals(client, users):
    sales = users["sales"]
    make_contract(sales, title="我的草稿合同")
    _in_review(sales)
    soon = _live(sales, 10, title="即将到期合同")
    _live(sales, 45)
    _live(sales, 80, currency="USD", amount=Decimal("1000.50"))
    _live(sales, 200)

    response = login(client, sales).get(reverse("dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("contracts:list")}?status=draft"' in html
    assert f'href="{reverse("contracts:detail", args=[soon.pk])}"' in html
    summary = response.context
    counts = {row["status"]: row["count"] for row in summary["by_status"]}
    assert counts["draft"] == 1 and counts["in_review"] == 1 and counts["active"] == 4
    assert [b["count"] for b in summary["expiring"]] == [1, 2, 3]
    assert summary["expiring_soon"][0] == soon
    totals = {row["currency"]: row["total"] for row in summary["totals"]}
    assert totals["CNY"] == Decimal("300000.00")  # three live CNY contracts of 100 000
    assert totals["USD"] == Decimal("1000.50")
    assert summary["my_drafts_count"] == 1
    assert summary["my_expiring_count"] == 1
    assert not summary["may_approve"]  # sales do not review
    assert 'data-testid="to-review-count"' not in html


def test_counts_exclude_other_teams(client, users):
    make_contract(users["sales"])
    _live(users["sales"], 20)
    make_contract(users["sales_b"])
    make_contract(users["sales_b"])
    _live(users["sales_b"], 20, currency="EUR")

    summary = dashboard_summary(user=users["sales"])
    assert summary["total"] == 2
    assert {r["status"]: r["count"] for r in summary["by_status"]}["draft"] == 1
    assert summary["expiring"][0]["count"] == 1
    assert [r["currency"] for r in summary["totals"]] == ["CNY"]

    # A team-mate sees the team's contracts; legal sees every contract.
    assert dashboard_summary(user=users["sales2"])["total"] == 2
    assert dashboard_summary(user=users["legal"])["total"] == 5
    response = login(client, users["sales_b"]).get(reverse("dashboard"))
    assert response.context["total"] == 3
    assert 'data-testid="total-CNY"' not in response.content.decode()


def test_the_approvers_open_tasks_are_on_their_dashboard(client, users):
    _in_review(users["sales"])
    _in_review(users["sales_b"])
    # Each team's manager decides the first step of their team's contract; legal decides later.
    for name, count in (("manager", 1), ("manager_b", 1), ("legal", 0)):
        body = login(client, users[name]).get(reverse("dashboard")).content.decode()
        assert f'data-testid="to-review-count">{count}<' in body, name
    assert 'data-testid="my-tasks"' in login(client, users["manager"]).get(reverse("dashboard")).content.decode()
    assert 'data-testid="to-review-count"' not in login(client, users["sales"]).get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "legal", "finance", "auditor"])
def test_every_role_can_open_the_dashboard(client, users, role):
    make_contract(users["sales"])
    response = login(client, users[role]).get(reverse("dashboard"))
    assert response.status_code == 200


def test_query_count_is_constant(client, users):
    legal = users["legal"]
    client.force_login(legal)
    _live(users["sales"], 15)
    _in_review(users["sales"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard")).status_code == 200
    from qiyue.finance.tests.factories import plan

    for days in (5, 20, 40, 70):
        _live(users["sales"], days)
        dollars = _live(users["sales_b"], days, currency="USD")
        # Money owed, overdue and not yet: the receivables charts read it in one query whatever its size.
        plan(users["finance"], dollars, ((_today() - datetime.timedelta(days=days)).isoformat(), "1.00"),
             ((_today() + datetime.timedelta(days=days)).isoformat(), str(dollars.amount - 1)))
        _in_review(users["sales_b"])
        make_contract(users["sales_b"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("dashboard")).status_code == 200
    assert len(many) == len(few)
    # One per panel, the two expiring lists one per live status, one per month chart, one for the
    # receivables charts; and the
    # two-factor gate's one look for an authenticator of a session not verified by one
    # (qiyue/accounts/middleware.py), and the navigation bar's unread notifications.
    assert len(many) <= 19


def test_login_then_dashboard(client, users):
    response = client.post(reverse("login"), {"username": "sales_a", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert response.context["nav"] == "dashboard"


def test_expiring_lists_merge_signed_and_active_soonest_first(users):
    sales = users["sales"]
    today = _today()
    active_3, active_10 = _live(sales, 3), _live(sales, 10)
    signed_5 = make_contract(sales, effective_date=today - datetime.timedelta(days=300),
                             expiry_date=today + datetime.timedelta(days=5))
    for name in ("submit", "approve", "sign"):
        actor = users["legal"] if name == "approve" else sales
        signed_5 = contract_transition(actor=actor, contract=signed_5, name=name, via_workflow=name == "approve", signing_method="wet_ink",
                                       signing_date=today)
    for extra in range(8):  # more than the list shows: the latest ones drop off
        _live(sales, 20 + extra)
    summary = dashboard_summary(user=sales, today=today)
    expected = [active_3.pk, signed_5.pk, active_10.pk]
    assert [c.pk for c in summary["expiring_soon"]][:3] == expected and len(summary["expiring_soon"]) == 8
    assert [c.pk for c in summary["my_expiring"]][:3] == expected
    assert summary["expiring_soon"][0].owner == sales and summary["expiring_soon"][0].days_left == 3


def test_and_n_more_opens_the_whole_queue(client, users):
    """A queue longer than the dashboard shows ends with "and N more", a link to the contracts list
    filtered to exactly that queue."""
    import re

    for n in range(11):
        make_contract(users["sales"], title=f"草稿 {n}")
    make_contract(users["sales2"], title="别人的草稿")
    client.force_login(users["sales"])
    html = client.get(reverse("dashboard")).content.decode()
    link = re.search(r'<a href="([^"]+)" data-testid="queue-more">and 3 more</a>', html)
    assert link, html[html.find("My drafts"):][:2000]
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith(reverse("contracts:list") + "?") and f"owner={users['sales'].pk}" in url
    listed = client.get(url).content.decode()
    assert listed.count('data-testid="contract-row"') == 11 and "别人的草稿" not in listed


def test_my_expiring_queue_link_lists_the_same_contracts(client, users):
    import re

    from qiyue.contracts.models import Contract

    today = timezone.localdate()
    mine = [make_contract(users["sales"], title=f"到期 {n}").pk for n in range(10)]
    Contract.objects.filter(pk__in=mine).update(status="active", expiry_date=today + datetime.timedelta(days=30))
    later = make_contract(users["sales"], title="晚些到期")
    Contract.objects.filter(pk=later.pk).update(status="active", expiry_date=today + datetime.timedelta(days=31))
    client.force_login(users["sales"])
    html = client.get(reverse("dashboard")).content.decode()
    section = html[html.index('data-testid="my-expiring-count"'):]
    url = re.search(r'<a href="([^"]+)" data-testid="queue-more">and 2 more</a>', section).group(1)
    listed = client.get(url.replace("&amp;", "&")).content.decode()
    assert listed.count('data-testid="contract-row"') == 10 and "晚些到期" not in listed
