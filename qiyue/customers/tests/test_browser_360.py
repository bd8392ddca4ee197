"""The customer 360 page stays short in a real Chromium: five contracts' creations are five lines on
its timeline (their fields folded), where they used to make a page of almost 6,000 px."""

from decimal import Decimal

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


@pytest.mark.browser
def test_five_contracts_make_a_short_timeline(live_server, transactional_db, settings, browser_page):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hans"
    sales = make_user("sales", make_team("360 team"), username="c360_sales")
    customer = make_customer(sales, name="三六零测试客户有限公司")
    for n in range(5):
        make_contract(sales, customer=customer, amount=Decimal("49800") + n)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "c360_sales")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("timeline-event").count() == 0  # not loaded while its tab is hidden
    page.get_by_test_id("tab-timeline").click()
    timeline = page.get_by_test_id("timeline")  # loaded when the tab is first shown
    timeline.get_by_test_id("timeline-event").nth(5).wait_for()
    assert timeline.get_by_test_id("timeline-event").count() >= 6  # the customer's creation and 5 contracts'
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, height
    # The folded fields open on demand.
    details = timeline.get_by_test_id("timeline-details").first
    before = details.bounding_box()["height"]
    details.locator("summary").click()
    assert details.bounding_box()["height"] > before + 100
    # On a phone, with the tabs at the bottom of the screen, the timeline's card is below the fold when its
    # tab opens: opening the tab loads it all the same.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.wait_for_load_state("networkidle")
    tabs = page.get_by_test_id("customer-tabs").bounding_box()
    page.set_viewport_size({"width": 390, "height": int(tabs["y"] + tabs["height"]) + 10})
    page.get_by_test_id("tab-timeline").click()
    page.get_by_test_id("timeline-event").nth(5).wait_for(timeout=10_000)
    assert page.get_by_test_id("timeline-loading").count() == 0
