"""The calendar in a real Chromium: the month grid and the agenda of a user's dates, moving between
months, the manager's team filter, the dashboard's "due soon" panel, the feed's address and its reset."""

import datetime

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.finance.tests.factories import plan
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)

from .factories import running_contract


@pytest.mark.browser
def test_the_calendar_month_agenda_and_feed(live_server, transactional_db, settings, browser_page):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hans"
    today = datetime.date.today()
    team = make_team("日历团队")
    sales = make_user("sales", team, username="cal_sales")
    make_user("manager", team, username="cal_manager")
    finance = make_user("finance", username="cal_finance")
    make_user("legal", username="cal_legal")
    make_user("admin", username="cal_admin")
    next_month = (today.replace(day=1) + datetime.timedelta(days=40)).replace(day=12)
    contract = running_contract(sales, expiry_date=next_month, effective_date=today - datetime.timedelta(days=200),
                                title="日历测试合同")
    plan(finance, contract, (today + datetime.timedelta(days=2), "12000.00"))
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "cal_sales")
    # The dashboard loads the panel of what is due soon.
    page.goto(f"{live_server.url}/")
    panel = page.get_by_test_id("due-soon")
    panel.wait_for()
    assert panel.get_by_test_id("due-soon-row").count() == 1
    assert "收款到期" in panel.inner_text()
    panel.get_by_test_id("due-soon-calendar").click()
    # This month: the installment on its day; the next month: the expiry.
    page.get_by_test_id("cal-grid").wait_for()
    day = page.locator(f"td[data-date='{(today + datetime.timedelta(days=2)).isoformat()}']")
    if day.count() == 0:  # the installment falls in the next month's grid
        page.get_by_test_id("cal-next").click()
        day = page.locator(f"td[data-date='{(today + datetime.timedelta(days=2)).isoformat()}']")
    assert contract.number in day.get_by_test_id("cal-entry").first.inner_text()
    page.goto(f"{live_server.url}/reminders/calendar/")
    page.get_by_test_id("cal-next").click()
    page.wait_for_load_state("networkidle")
    expiry = page.locator(f"td[data-date='{next_month.isoformat()}'] [data-testid=cal-entry]")
    assert "日历测试合同" in expiry.inner_text()
    page.get_by_test_id("view-agenda").click()
    page.wait_for_load_state("networkidle")
    assert "到期：" + contract.number in page.get_by_test_id("cal-agenda").inner_text()
    expiry_link = page.get_by_test_id("agenda-entry").filter(has_text="到期：")
    expiry_link.click()
    page.wait_for_url(f"**/contracts/{contract.pk}/")
    # On a phone: counts in the grid, each a link to its day in the agenda.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/reminders/calendar/?month={next_month:%Y-%m}")
    badge = page.locator(f"td[data-date='{next_month.isoformat()}'] [data-testid=cal-day-count]")
    assert badge.inner_text() == "1" and page.get_by_test_id("cal-entry").first.is_hidden()
    badge.click()
    page.get_by_test_id("cal-agenda").wait_for()
    # The feed: created, then reset behind a second click.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/reminders/feed/")
    page.get_by_test_id("feed-create").click()
    first = page.get_by_test_id("feed-url").input_value()
    assert first.startswith(live_server.url) and first.endswith(".ics")
    page.get_by_test_id("feed-reset").click()
    page.get_by_test_id("feed-reset-confirm").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("feed-url").input_value() != first
    # A manager looks at the team's dates.
    page.context.clear_cookies()
    log_in(page, live_server.url, "cal_manager")
    page.goto(f"{live_server.url}/reminders/calendar/?month={next_month:%Y-%m}&view=agenda")
    assert page.get_by_test_id("cal-empty").is_visible()  # none of the manager's own
    page.get_by_test_id("cal-whose").select_option("team")
    page.get_by_test_id("cal-team").select_option(str(team.pk))
    page.get_by_test_id("cal-apply").click()
    page.wait_for_load_state("networkidle")
    assert contract.number in page.get_by_test_id("cal-agenda").inner_text()
