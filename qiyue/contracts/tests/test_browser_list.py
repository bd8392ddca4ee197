"""The contracts list reads at a glance in a real Chromium at 1440 px, in both languages: numbers,
dates, amounts and names never wrap (measured from the text's line boxes), long titles are cut with
an ellipsis and whole in their tooltip."""

import datetime
from decimal import Decimal

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)

LONG_TITLE = "2026—2028年度技术服务框架协议之补充协议（第3号）：价格调整、交货期变更及付款条件修订" * 2

# For each cell of a column: how many lines its text takes (one line box per line).
LINES = """(column) => [...document.querySelectorAll(`[data-testid=contract-table] td[data-col=${column}]`)]
  .map(td => { const r = document.createRange(); r.selectNodeContents(td);
               return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"""


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_numbers_dates_amounts_and_names_stay_on_one_line(live_server, transactional_db, settings,
                                                          browser_page, language):  # noqa: F811
    settings.LANGUAGE_CODE = language
    team = make_team("List team")
    sales = make_user("sales", team, username="list_sales")
    type(sales).objects.filter(pk=sales.pk).update(display_name="欧阳晓明远")
    customer = make_customer(sales, name="广州羊城汽车零部件制造股份有限公司华南区域销售分公司")
    for n in range(5):
        make_contract(sales, customer=customer, title=LONG_TITLE, amount=Decimal("123456789.00") + n,
                      expiry_date=datetime.date(2027, 12, 29))
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "list_sales")
    page.goto(f"{live_server.url}/contracts/")
    for column in ("number", "date", "amount", "name"):
        lines = page.evaluate(LINES, column)
        assert len(lines) == 5 and set(lines) == {1}, (column, lines)
    title = page.locator("[data-testid=contract-row] .cell-truncate").first
    assert title.get_attribute("title") == LONG_TITLE
    assert title.evaluate("e => e.scrollWidth > e.clientWidth")  # cut, with its ellipsis
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1440, width


@pytest.mark.browser
def test_on_a_phone_the_table_scrolls_with_the_number_kept_in_view(live_server, transactional_db, settings,
                                                                   browser_page):  # noqa: F811
    settings.LANGUAGE_CODE = "en"
    sales = make_user("sales", make_team("Phone team"), username="phone_sales")
    customer = make_customer(sales, name="广州羊城汽车零部件制造股份有限公司")
    for n in range(3):
        make_contract(sales, customer=customer, title=LONG_TITLE, amount=Decimal("123456789.00") + n)
    page = browser_page
    log_in(page, live_server.url, "phone_sales")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/contracts/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
    scroller = page.locator(".table-responsive").filter(has=page.get_by_test_id("contract-table"))
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    number = page.locator("[data-testid=contract-row] td").first
    other = page.get_by_test_id("contract-row").first.locator("td").nth(2)
    left, other_left = number.bounding_box()["x"], other.bounding_box()["x"]
    scroller.evaluate("e => { e.scrollLeft = 300; }")
    page.wait_for_timeout(100)
    assert other.bounding_box()["x"] < other_left - 100  # the rest scrolled...
    assert abs(number.bounding_box()["x"] - left) < 2  # ...the key column stayed where it was
