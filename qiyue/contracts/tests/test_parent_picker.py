"""The framework-agreement picker of the contract form: it offers the chosen customer's framework
agreements, never every contract, and searches them by number or title as the user types."""

import re

import pytest
from django.urls import reverse

from qiyue.contracts.forms import PARENT_CHOICES
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="(\d*)"(?: selected)?>', html)


@pytest.fixture
def setup(users):
    sales = users["sales"]
    mine = make_customer(sales, name="框架客户甲")
    other = make_customer(sales, name="框架客户乙")
    frameworks = [make_contract(sales, customer=mine, title=f"年度框架协议 {n}") for n in range(3)]
    supplement = make_contract(sales, customer=mine, title="补充协议", parent=frameworks[0])
    elsewhere = make_contract(sales, customer=other, title="乙的框架协议")
    hidden = make_contract(users["sales_b"], customer=mine, title="他组的框架协议", actor=users["admin"])
    return {"mine": mine, "other": other, "frameworks": frameworks, "supplement": supplement,
            "elsewhere": elsewhere, "hidden": hidden}


def test_the_form_offers_only_the_chosen_customers_framework_agreements(client, users, setup):
    client.force_login(users["sales"])
    empty = client.get(reverse("contracts:create")).content.decode()
    select = empty[empty.index('name="parent"'):empty.index("</select>", empty.index('name="parent"'))]
    assert _options(select) == [""]  # no customer chosen yet: nothing to pick from
    html = client.get(reverse("contracts:create"), {"customer": setup["mine"].pk}).content.decode()
    select = html[html.index('name="parent"'):html.index("</select>", html.index('name="parent"'))]
    offered = {int(v) for v in _options(select) if v}
    # Newest first, this customer's top-level contracts the user may see: no supplement, no other
    # customer's, no other team's.
    assert offered == {c.pk for c in setup["frameworks"]}
    assert 'data-testid="parent-search"' in html


def test_search_as_you_type(client, users, setup):
    client.force_login(users["sales"])
    url = reverse("contracts:parent_options")
    mine = setup["mine"].pk
    target = setup["frameworks"][2]
    found = _options(client.get(url, {"customer": mine, "parent_q": "框架协议 2"}).content.decode())
    assert found == ["", str(target.pk)]
    by_number = _options(client.get(url, {"customer": mine, "parent_q": target.number}).content.decode())
    assert by_number == ["", str(target.pk)]
    none = client.get(url, {"customer": mine, "parent_q": "不存在的协议"}).content.decode()
    assert _options(none) == [""] and "No framework agreement of this customer matches" in none
    # The selected one stays offered whatever the search; the contract being edited never is.
    kept = _options(client.get(url, {"customer": mine, "parent_q": "zzz", "parent": target.pk}).content.decode())
    assert kept == ["", str(target.pk)]
    assert str(target.pk) not in _options(client.get(url, {"customer": mine, "exclude": target.pk}).content.decode())


def test_many_framework_agreements_are_not_all_listed(client, users):
    sales = users["sales"]
    customer = make_customer(sales, name="大客户")
    for n in range(PARENT_CHOICES + 5):
        make_contract(sales, customer=customer, title=f"协议 {n}")
    client.force_login(sales)
    options = _options(client.get(reverse("contracts:parent_options"), {"customer": customer.pk}).content.decode())
    assert len(options) == PARENT_CHOICES + 1


def test_hostile_input(client, users, setup):
    client.force_login(users["sales"])
    url = reverse("contracts:parent_options")
    assert client.get(url, {"customer": "abc"}).status_code == 400
    assert client.get(url, {"customer": "9" * 40}).status_code == 400
    assert client.get(url, {"exclude": "-1"}).status_code == 400
    assert client.get(url, {"customer": setup["mine"].pk, "parent_q": "x" * 101}).status_code == 400
    assert client.get(url, {"customer": 999_999}).status_code == 404
    other_team_customer = make_customer(users["sales_b"], name="他组客户")
    assert client.get(url, {"customer": other_team_customer.pk}).status_code == 404
    # A framework agreement of another customer is refused on save, whatever was posted.
    response = client.post(reverse("contracts:create"), {
        "title": "错配的补充协议", "customer": setup["mine"].pk, "parent": setup["elsewhere"].pk, "currency": "CNY",
        "amount": "1", "tax_rate": "0", "nature": "sales", "subject_matter": "goods", "signing_form": "paper",
        "notice_period_days": "30"})
    assert response.status_code == 400 and 'data-testid="error-parent"' in response.content.decode()


@pytest.mark.browser
def test_picking_in_a_real_browser(live_server, transactional_db, settings, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    from qiyue.accounts.tests.factories import make_team, make_user

    settings.LANGUAGE_CODE = "en"
    sales = make_user("sales", make_team("Picker team"), username="picker_sales")
    customer = make_customer(sales, name="选择器客户")
    make_customer(sales, name="另一个客户")
    wanted = make_contract(sales, customer=customer, title="二〇二六年度框架协议")
    make_contract(sales, customer=customer, title="设备采购合同")
    page = browser_page
    log_in(page, live_server.url, "picker_sales")
    page.goto(f"{live_server.url}/contracts/new/")
    parent = page.locator("#id_parent")
    expect(parent.locator("option:not([disabled])")).to_have_count(1)
    page.select_option("#id_customer", label="选择器客户")
    expect(parent.locator("option:not([disabled])")).to_have_count(3)
    page.get_by_test_id("parent-search").fill("框架")
    expect(parent.locator("option:not([disabled])")).to_have_count(2)
    parent.select_option(str(wanted.pk))
    assert not page.page_errors, page.page_errors



def test_the_customer_select_searches_instead_of_listing_every_customer(client, users):
    from qiyue.contracts.forms import CUSTOMER_CHOICES

    sales = users["sales"]
    for n in range(CUSTOMER_CHOICES + 5):
        make_customer(sales, name=f"客户{n:03d}有限公司")
    wanted = make_customer(sales, name="长江精密制造有限公司")
    hidden = make_customer(users["sales_b"], name="长江他组客户有限公司")
    client.force_login(sales)
    html = client.get(reverse("contracts:create")).content.decode()
    select = html[html.index('name="customer"'):html.index("</select>", html.index('name="customer"'))]
    assert len(_options(select)) == CUSTOMER_CHOICES + 1 and 'data-testid="customer-search"' in html
    url = reverse("contracts:customer_options")
    found = _options(client.get(url, {"customer_q": "长江"}).content.decode())
    assert found == ["", str(wanted.pk)]  # never another team's
    kept = _options(client.get(url, {"customer_q": "zzz", "customer": wanted.pk}).content.decode())
    assert kept == ["", str(wanted.pk)]
    # The chosen customer is offered when the form is shown with it, whatever its place by name.
    html = client.get(reverse("contracts:create"), {"customer": wanted.pk}).content.decode()
    assert f'<option value="{wanted.pk}" selected>' in html
    assert client.get(url, {"customer": "abc"}).status_code == 400
    assert client.get(url, {"customer_q": "x" * 101}).status_code == 400
    assert str(hidden.pk) not in _options(client.get(url, {"customer": hidden.pk}).content.decode())
