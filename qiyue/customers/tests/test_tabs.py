"""The customer 360 page as a workspace: summary cards above tabs for the overview, contracts (with
their count), contacts (with theirs), communications, documents and the timeline."""

import re

import pytest
from django.urls import reverse

from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers import services
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db

TABS = ["overview", "contracts", "contacts", "communications", "documents", "timeline"]


def _pane(html: str, key: str) -> str:
    start = html.index(f'id="pane-{key}"')
    following = html.find('<div class="tab-pane', start)
    return html[start:following if following != -1 else None]


def test_tabs_hold_each_section_with_counts(client, users):
    customer = make_customer(users["sales"], name="标签页客户有限公司")
    for _ in range(3):
        make_contract(users["sales"], customer=customer)
    cancelled = make_contract(users["sales"], customer=customer)
    contract_transition(actor=users["sales"], contract=cancelled, name="cancel", reason="重复")
    services.contact_create(actor=users["sales"], customer=customer, data={"name": "王经理", "phone": "13800000000"})
    client.force_login(users["sales"])
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert re.findall(r'data-testid="tab-(\w+)"', html) == TABS
    # Summary cards stay above the tabs, whichever is open.
    assert html.index('data-testid="customer-summary"') < html.index('data-testid="customer-tabs"')
    # The count of contracts is every contract listed (a cancelled one too); only totals leave it out.
    assert re.search(r'data-testid="tab-count-contracts">4<', html)
    assert re.search(r'data-testid="tab-count-contacts">1<', html)
    assert "统一社会信用代码" in _pane(html, "overview") or "Unified social credit code" in _pane(html, "overview")
    assert 'data-testid="customer-contracts"' in _pane(html, "contracts")
    assert 'id="contacts"' in _pane(html, "contacts") and "王经理" in _pane(html, "contacts")
    assert 'id="communications"' in _pane(html, "communications")
    assert reverse("documents:customer_panel", args=[customer.pk]) in _pane(html, "documents")
    # The timeline is loaded when its tab is first shown.
    assert reverse("customers:timeline", args=[customer.pk]) in _pane(html, "timeline")
    assert 'data-testid="timeline-event"' not in html
    assert "js/workspace.js" in html


def test_tab_labels_in_chinese(client, users, settings):
    customer = make_customer(users["sales"])
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    nav = html[html.index('data-testid="customer-tabs"'):]
    nav = nav[:nav.index("</ul>")]
    for label in ("概览", "合同", "联系人", "沟通记录", "文档", "时间线"):
        assert label in nav, label
    assert re.search(r'data-testid="tab-count-contracts">0<', nav)


def test_the_timeline_shows_the_newest_events(client, users):
    from qiyue.customers.views import TIMELINE_EVENTS

    customer = make_customer(users["sales"], name="很多事件的客户")
    for _ in range(TIMELINE_EVENTS):  # with the customer's own creation: one event more than shown
        make_contract(users["sales"], customer=customer)
    client.force_login(users["admin"])
    pane = client.get(reverse("customers:timeline", args=[customer.pk])).content.decode()
    assert pane.count('data-testid="timeline-event"') == TIMELINE_EVENTS
    assert 'data-testid="timeline-more"' in pane and f"?customer={customer.pk}" in pane


def test_the_timeline_of_a_customer_one_may_not_see_is_not_found(client, users):
    customer = make_customer(users["sales"], name="别人的客户")
    client.force_login(users["sales_b"])
    assert client.get(reverse("customers:timeline", args=[customer.pk])).status_code == 404
    assert client.get("/customers/99999999/timeline/").status_code == 404
    assert client.get("/customers/abc/timeline/").status_code == 404
    client.logout()
    assert client.get(reverse("customers:timeline", args=[customer.pk])).status_code == 302
